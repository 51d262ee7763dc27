package io.iovalab.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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

    /**
     * Starts QEMU and (unless interactive) waits until the guest's runner is up. A boot in which
     * neither the guest's console nor QEMU printed a line (seen here once in some hundreds of TCG
     * boots, the kernel silent before /init) is reported on stderr with QEMU's state and tried
     * once more; any other boot failure, or a second silent one, is the caller's.
     */
    public static GuestSession start(GuestSpec spec) throws IOException {
        try {
            return launch(spec);
        } catch (SilentBoot e) {
            System.err.println("iovalab: " + e.getMessage() + "\niovalab: the guest and QEMU printed nothing: booting once more");
            try {
                return launch(spec);
            } catch (SilentBoot again) {
                throw new GuestException(again.getMessage() + "\n(the second boot in a row that printed nothing)");
            }
        }
    }

    /** A boot timeout with an empty console and an empty QEMU log. */
    private static final class SilentBoot extends IOException {
        SilentBoot(String message) {
            super(message);
        }
    }

    private static boolean empty(Path log) {
        try {
            return !Files.exists(log) || Files.size(log) == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static GuestSession launch(GuestSpec spec) throws IOException {
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
                String why = "boot: the guest did not come up within " + spec.bootTimeout().toSeconds()
                        + " s (" + spec.image().name() + " kernel " + spec.image().kernelVersion() + ")" + tail(serialLog, 40)
                        + tail(qemuLog, 20) + "\n--- QEMU, asked at the timeout\n" + stuckState();
                throw empty(serialLog) && empty(qemuLog) ? new SilentBoot(why) : new GuestException(why);
            }
            sleep(100);
        }
        kernelRelease = Files.readString(ready).strip();
    }

    /**
     * Where a guest that did not come up is: QEMU's run state and each vCPU's instruction pointer
     * and HLT flag (a QEMU that does not answer its monitor is itself stuck, e.g. a vCPU holding
     * the BQL while it waits for a vfio-user reply).
     */
    private String stuckState() {
        try (QmpClient q = QmpClient.connect(qmp, Duration.ofSeconds(5))) {
            StringBuilder b = new StringBuilder("status " + q.status());
            String regs = q.execute("human-monitor-command", Map.of("command-line", "info registers -a")).asText();
            Matcher m = Pattern.compile("([RE]IP=\\S+).*?(HLT=\\d)", Pattern.DOTALL).matcher(regs);
            for (int cpu = 0; m.find(); cpu++) {
                b.append("; vCPU ").append(cpu).append(' ').append(m.group(1)).append(' ').append(m.group(2));
            }
            return b.toString();
        } catch (IOException | RuntimeException e) {
            return "no answer on QMP: " + e.getMessage();
        }
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
            if (qemu.isAlive() && !spec.interactive() && !kernelRelease.isEmpty()) { // only a runner that came up can power off
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
