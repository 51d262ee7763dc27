package io.iovalab.cli;

import picocli.CommandLine.IVersionProvider;

final class Version implements IVersionProvider {
    @Override
    public String[] getVersion() {
        String v = Main.class.getPackage().getImplementationVersion();
        return new String[] {"iovalab " + (v != null ? v : "development build") + " on Java " + Runtime.version()};
    }
}
