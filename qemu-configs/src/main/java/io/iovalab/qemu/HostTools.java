package io.iovalab.qemu;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/** Installs host packages (as root, with apt) when the commands they bring are missing. */
public final class HostTools {
    private static final List<String[]> NEEDED = List.of(
            new String[] {"mmdebstrap", "mmdebstrap"},
            new String[] {"cpio", "cpio"},
            new String[] {"zstd", "zstd"},
            new String[] {"depmod", "kmod"});

    private HostTools() {
    }

    /** What provisioning needs: mmdebstrap, cpio, zstd, depmod. */
    static void ensure(Cache cache, Progress progress) throws IOException {
        ensure(NEEDED, cache, progress);
    }

    /**
     * Installs {@code debianPackage} unless {@code command} is on the PATH; for tools only some
     * callers need (the report test's chromium), so provisioning does not pull them in for everyone.
     */
    public static void ensureCommand(String command, String debianPackage, Cache cache, Progress progress) throws IOException {
        ensure(List.<String[]>of(new String[] {command, debianPackage}), cache, progress);
    }

    private static synchronized void ensure(List<String[]> tools, Cache cache, Progress progress) throws IOException {
        List<String> missing = new ArrayList<>();
        for (String[] t : tools) {
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
