package io.iovalab.qemu;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Installs the host packages provisioning needs (as root, with apt) when they are missing. */
final class HostTools {
    private static final List<String[]> NEEDED = List.of(
            new String[] {"mmdebstrap", "mmdebstrap"},
            new String[] {"cpio", "cpio"},
            new String[] {"zstd", "zstd"},
            new String[] {"depmod", "kmod"});

    private HostTools() {
    }

    static synchronized void ensure(Cache cache, Progress progress) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String[] t : NEEDED) {
            if (!Commands.onPath(t[0])) {
                missing.add(t[1]);
            }
        }
        if (missing.isEmpty()) {
            return;
        }
        String step = "install host packages " + String.join(" ", missing);
        progress.step(step);
        long t0 = System.currentTimeMillis();
        var log = cache.root().resolve("logs/host-tools.log");
        Commands.run(step, List.of("apt-get", "update", "-qq"), log, 600);
        List<String> argv = new ArrayList<>(List.of("apt-get", "install", "-y", "-qq", "--no-install-recommends"));
        argv.addAll(missing);
        Commands.run(step, argv, cache.root().resolve("logs/host-tools-install.log"), 900);
        progress.done(step, System.currentTimeMillis() - t0);
    }
}
