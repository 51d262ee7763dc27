package io.iovalab.guest;

import com.fasterxml.jackson.databind.JsonNode;
import io.iovalab.control.ControlClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code iovalab serve} as its own JVM, as a user runs it: a SIGKILL then takes the whole server
 * and nothing of the test with it, and a QEMU killed under it meets the server a user would have.
 * The child runs this test's classpath, so it is the code under test, not an installed launcher.
 */
final class ServeProcess implements AutoCloseable {
    private final Process process;
    private final Path socket;
    private final Path log;

    private ServeProcess(Process process, Path socket, Path log) {
        this.process = process;
        this.socket = socket;
        this.log = log;
    }

    /** Starts the server and returns once it listens (its control socket answers). */
    static ServeProcess start(Path socket, String device, Path log) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command().orElseThrow(() -> new IOException("no path to this JVM"));
        List<String> argv = new ArrayList<>(List.of(java, "--enable-native-access=ALL-UNNAMED", "-Xmx512m",
                "-cp", System.getProperty("java.class.path"), "io.iovalab.cli.Main",
                "serve", "--socket", socket.toString(), "--device", device));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        ServeProcess s = new ServeProcess(p, socket, log);
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            if (!p.isAlive()) {
                throw new IOException("iovalab serve exited with " + p.exitValue() + ":\n" + s.log());
            }
            try (ControlClient c = ControlClient.connect(socket)) {
                c.inspect();
                return s;
            } catch (IOException notYet) {
                if (System.nanoTime() > deadline) {
                    s.close();
                    throw new IOException("iovalab serve did not listen within 60 s:\n" + s.log(), notYet);
                }
                Thread.sleep(200);
            }
        }
    }

    JsonNode inspect() throws IOException {
        try (ControlClient c = ControlClient.connect(socket)) {
            return c.inspect();
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    long pid() {
        return process.pid();
    }

    /** SIGKILL: no shutdown hook, no finally, no close of the backend file. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("iovalab serve (pid " + process.pid() + ") survived SIGKILL for 30 s");
        }
    }

    String log() {
        try {
            return Files.exists(log) ? Files.readString(log) : "";
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy(); // SIGTERM: the shutdown hook closes the device and its file
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(15, TimeUnit.SECONDS);
            }
        }
    }
}
