package io.iovalab.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A booted guest and the runner for scripts in it. The guest's /init mounts a host directory
 * (virtio-9p) and runs each {@code jobs/N.sh} that appears there, leaving {@code N.out},
 * {@code N.err} and {@code N.rc}; files the script writes under {@code /host} come back the
 * same way. Closing powers the guest off and makes sure QEMU is gone.
 */
public final class GuestSession implements AutoCloseable {
    private final GuestSpec spec;
    private final Process qemu;
    private final Path share;
    private final Path jobs;
    private final Path serialLog;
    private final Path qemuLog;
    private final Path qmp;
    private final Thread reaper;
    private int nextJob;
    private final long bootMillis;
    private String kernelRelease = "";

    private GuestSession(GuestSpec spec, Process qemu, Path share, Path serialLog, Path qemuLog, Path qmp, long t0)
            throws IOException {
        this.spec = spec;
        this.qemu = qemu;
        this.share = share;
        this.jobs = share.resolve("jobs");
        this.serialLog = serialLog;
        this.qemuLog = qemuLog;
        this.qmp = qmp;
        this.reaper = new Thread(qemu::destroyForcibly, "iovalab-qemu-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        if (!spec.interactive()) {
            try {
                awaitBoot();
            } catch (IOException e) {
                close();
                throw e;
            }
        }
        this.bootMillis = System.currentTimeMillis() - t0;
    }

    /** Starts QEMU and (unless interactive) waits until the guest's runner is up. */
    public static GuestSession start(GuestSpec spec) throws IOException {
        Files.createDirectories(spec.workDir());
        Path share = spec.workDir().resolve("share");
        QemuProvisioner.deleteTree(share);
        Files.createDirectories(share.resolve("jobs"));
        Path serial = spec.workDir().resolve("serial.log");
        Path qemuLog = spec.workDir().resolve("qemu.log");
        Path qmp = spec.workDir().resolve("qmp.sock");
        Files.deleteIfExists(serial);
        Files.deleteIfExists(qmp);
        List<String> argv = QemuCommandLine.build(spec, share, serial, qmp);
        Files.writeString(spec.workDir().resolve("qemu.cmdline"), String.join(" \\\n  ", argv) + "\n");
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().putAll(spec.qemu().env());
        if (spec.interactive()) {
            pb.inheritIO();
        } else {
            pb.redirectErrorStream(true).redirectOutput(qemuLog.toFile()).redirectInput(ProcessBuilder.Redirect.PIPE);
        }
        long t0 = System.currentTimeMillis();
        return new GuestSession(spec, pb.start(), share, serial, qemuLog, qmp, t0);
    }

    private void awaitBoot() throws IOException {
        long deadline = System.nanoTime() + spec.bootTimeout().toNanos();
        Path ready = share.resolve("ready");
        while (!Files.exists(ready)) {
            if (!qemu.isAlive()) {
                throw new GuestException("boot: QEMU exited with " + qemu.exitValue() + " before the guest came up\n"
                        + tail(qemuLog, 20) + tail(serialLog, 30));
            }
            if (System.nanoTime() > deadline) {
                throw new GuestException("boot: the guest did not come up within " + spec.bootTimeout().toSeconds()
                        + " s (" + spec.image().name() + " kernel " + spec.image().kernelVersion() + ")" + tail(serialLog, 40));
            }
            sleep(100);
        }
        kernelRelease = Files.readString(ready).strip();
    }

    public long bootMillis() {
        return bootMillis;
    }

    public String kernelRelease() {
        return kernelRelease;
    }

    /** The host side of the guest's /host directory. */
    public Path shared() {
        return share;
    }

    public Path serialLog() {
        return serialLog;
    }

    public Path qmpSocket() {
        return qmp;
    }

    public Process process() {
        return qemu;
    }

    /** Runs {@code script} with /bin/sh in the guest; a timeout names the script. */
    public synchronized ExecResult run(String script, Duration timeout) throws IOException {
        int n = nextJob++;
        String base = String.format("%04d", n);
        Path tmp = jobs.resolve(base + ".tmp");
        Files.writeString(tmp, script);
        Files.move(tmp, jobs.resolve(base + ".sh"));
        long t0 = System.currentTimeMillis();
        long deadline = System.nanoTime() + timeout.toNanos();
        Path rc = jobs.resolve(base + ".rc");
        while (!Files.exists(rc)) {
            if (!qemu.isAlive()) {
                throw new GuestException("script " + n + " (" + firstLine(script) + "): the guest died; exit " + qemu.exitValue()
                        + tail(serialLog, 30));
            }
            if (System.nanoTime() > deadline) {
                throw new GuestException("script " + n + " (" + firstLine(script) + ") did not finish within "
                        + timeout.toSeconds() + " s" + partial(base) + tail(serialLog, 20));
            }
            sleep(50);
        }
        String code = Files.readString(rc).strip();
        return new ExecResult(Integer.parseInt(code), read(jobs.resolve(base + ".out")), read(jobs.resolve(base + ".err")),
                System.currentTimeMillis() - t0);
    }

    /** Polls {@code condition} (a script) until it exits 0; the timeout names {@code what}. */
    public void waitFor(String condition, Duration timeout, String what) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        ExecResult last = null;
        while (System.nanoTime() < deadline) {
            last = run(condition, Duration.ofSeconds(30));
            if (last.exitCode() == 0) {
                return;
            }
            sleep(250);
        }
        throw new GuestException(what + ": not reached within " + timeout.toSeconds() + " s"
                + (last != null ? "\nlast check: " + last.stdout() + last.stderr() : "") + tail(serialLog, 30));
    }

    /** Waits for an interactive guest to end. */
    public int waitForExit() throws InterruptedException {
        return qemu.waitFor();
    }

    private String partial(String base) {
        return "\n--- stdout so far\n" + read(jobs.resolve(base + ".out")) + "\n--- stderr so far\n" + read(jobs.resolve(base + ".err"));
    }

    private static String firstLine(String script) {
        return script.strip().lines().findFirst().orElse("").strip();
    }

    private static String read(Path p) {
        try {
            return Files.exists(p) ? Files.readString(p, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "";
        }
    }

    static String tail(Path log, int lines) {
        try {
            if (!Files.exists(log)) {
                return "";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            List<String> t = new ArrayList<>(all.subList(Math.max(0, all.size() - lines), all.size()));
            return "\n--- " + log.getFileName() + " (last " + t.size() + " lines)\n" + String.join("\n", t);
        } catch (IOException e) {
            return "";
        }
    }

    private static void sleep(long ms) throws GuestException {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new GuestException("interrupted");
        }
    }

    @Override
    public void close() {
        try {
            if (qemu.isAlive() && !spec.interactive()) {
                Files.writeString(share.resolve("poweroff"), "");
                qemu.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (IOException | InterruptedException ignored) {
            // forced below
        }
        qemu.destroyForcibly();
        try {
            qemu.waitFor(10, TimeUnit.SECONDS);
            Runtime.getRuntime().removeShutdownHook(reaper);
        } catch (InterruptedException | IllegalStateException ignored) {
            // JVM shutting down: the hook does the job
        }
    }
}
