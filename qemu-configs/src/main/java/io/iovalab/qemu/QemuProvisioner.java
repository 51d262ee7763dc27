package io.iovalab.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Finds QEMU ≥ 10.1 (the first with a vfio-user client) or provisions 11.1 from trixie-backports. */
public final class QemuProvisioner {
    private static final Pattern VERSION = Pattern.compile("version (\\d+)\\.(\\d+)");
    static final String RECIPE = "qemu-system-x86 trixie-backports v1";

    private QemuProvisioner() {
    }

    public static QemuBinary ensure(Cache cache, Progress progress) throws IOException {
        if (System.getenv("IOVALAB_QEMU") != null) {
            return probe(List.of(System.getenv("IOVALAB_QEMU")), Map.of(), "IOVALAB_QEMU");
        }
        for (String sys : List.of("/usr/bin/qemu-system-x86_64", "/usr/local/bin/qemu-system-x86_64")) {
            if (Files.isExecutable(Path.of(sys))) {
                QemuBinary q = probe(List.of(sys), Map.of(), sys);
                if (atLeast(q.version(), 10, 1)) {
                    return q;
                }
            }
        }
        Path root = cache.entry("qemu", RECIPE);
        Path dir = root.resolve("root");
        if (!Cache.complete(root)) {
            HostTools.ensure(cache, progress);
            String mirror = AptMirror.find();
            String step = "provision QEMU 11.1 (trixie-backports) into " + root;
            progress.step(step);
            long t0 = System.currentTimeMillis();
            deleteTree(root);
            Files.createDirectories(root);
            Commands.run(step, List.of("mmdebstrap", "--variant=essential", "--mode=root", "--format=directory",
                    "--include=qemu-system-x86",
                    "--aptopt=APT::Default-Release \"trixie-backports\"",
                    "--aptopt=APT::Install-Recommends \"false\"",
                    "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
                    "--dpkgopt=path-exclude=/usr/share/locale/*",
                    "trixie", dir.toString(),
                    "deb " + mirror + " trixie main", "deb " + mirror + " trixie-backports main"),
                    cache.root().resolve("logs/qemu-root.log"), 1800);
            QemuBinary q = fromRoot(dir);
            if (!atLeast(q.version(), 10, 1)) {
                throw new ProvisionException(step, "provisioned QEMU is too old: " + q.version());
            }
            Cache.markComplete(root, RECIPE);
            progress.done(step, System.currentTimeMillis() - t0);
            return q;
        }
        return fromRoot(dir);
    }

    static QemuBinary fromRoot(Path dir) throws IOException {
        String libs = dir.resolve("lib/x86_64-linux-gnu") + ":" + dir.resolve("usr/lib/x86_64-linux-gnu");
        List<String> prefix = List.of(dir.resolve("lib64/ld-linux-x86-64.so.2").toString(), "--library-path", libs,
                dir.resolve("usr/bin/qemu-system-x86_64").toString(), "-L", dir.resolve("usr/share/qemu").toString(),
                "-L", dir.resolve("usr/share/seabios").toString());
        Path modules = dir.resolve("usr/lib/x86_64-linux-gnu/qemu");
        return probe(prefix, Map.of("QEMU_MODULE_DIR", modules.toString()), dir.toString());
    }

    private static QemuBinary probe(List<String> prefix, Map<String, String> env, String where) throws IOException {
        List<String> argv = new ArrayList<>(prefix);
        argv.add("--version");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true);
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("QEMU at " + where + " does not run: " + out.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        }
        return new QemuBinary(prefix, env, out.lines().findFirst().orElse("").strip());
    }

    static boolean atLeast(String versionLine, int major, int minor) {
        Matcher m = VERSION.matcher(versionLine);
        if (!m.find()) {
            return false;
        }
        int a = Integer.parseInt(m.group(1));
        int b = Integer.parseInt(m.group(2));
        return a > major || (a == major && b >= minor);
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Commands.run("remove " + p, List.of("rm", "-rf", "--one-file-system", p.toString()), Path.of("/dev/null"), 600);
    }
}
