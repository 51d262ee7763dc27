package io.iovalab.qemu;

import java.io.PrintStream;

/** Where provisioning reports what it is doing; a fresh machine spends minutes here. */
public interface Progress {
    void step(String what);

    void done(String what, long millis);

    static Progress to(PrintStream out) {
        return new Progress() {
            @Override
            public void step(String what) {
                out.println("iovalab: " + what + " ...");
                out.flush();
            }

            @Override
            public void done(String what, long millis) {
                out.printf("iovalab: %s done in %.1f s%n", what, millis / 1000.0);
                out.flush();
            }
        };
    }

    Progress SILENT = new Progress() {
        @Override
        public void step(String what) {
        }

        @Override
        public void done(String what, long millis) {
        }
    };
}
