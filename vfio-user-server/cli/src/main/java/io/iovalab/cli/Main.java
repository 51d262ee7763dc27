package io.iovalab.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code iovalab}: the launcher script runs this class on Java 25. */
@Command(name = "iovalab",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
                "A vfio-user device-model backend: emulated PCI functions for a QEMU guest,",
                "with every device DMA translated through iovalab's own IOMMU model."},
        subcommands = {DemoCommand.class, CompareCommand.class, ServeCommand.class, BootCommand.class, RunCommand.class,
                ProvisionCommand.class, DevicesCommand.class, InjectCommand.class, TraceCommand.class, InspectCommand.class,
                ReplayCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cl = commandLine();
        cl.setExecutionExceptionHandler((ex, line, parsed) -> {
            line.getErr().println("iovalab: " + (ex.getMessage() != null ? ex.getMessage() : ex.toString()));
            if (Boolean.getBoolean("iovalab.debug")) {
                ex.printStackTrace(line.getErr());
            }
            return 1;
        });
        return cl.execute(args);
    }

    /** The command tree as the launcher parses it (tests parse with this too). */
    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        return cl;
    }
}
