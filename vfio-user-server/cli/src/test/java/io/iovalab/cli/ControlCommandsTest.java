package io.iovalab.cli;

import io.iovalab.control.ControlServer;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** {@code iovalab inject / inspect / trace} against a running NVMe server, as a user types them. */
class ControlCommandsTest {
    @TempDir
    Path dir;
    Path socket;
    VfioUserServer server;
    ControlServer control;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    PrintStream oldOut;
    PrintStream oldErr;

    @BeforeEach
    void setUp() throws Exception {
        socket = dir.resolve("nvme.sock");
        server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("nvme:size=16M")), DeviceRegistry.system());
        control = ControlServer.start(server);
        oldOut = System.out;
        oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void tearDown() {
        System.setOut(oldOut);
        System.setErr(oldErr);
        control.close();
        server.close();
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void inject_arms_a_fault_that_list_and_inspect_then_show_and_clear_removes() {
        assertEquals(0, Main.run("inject", "--socket", socket.toString(), "fail-command:status=write-fault,opcode=write"));
        assertTrue(out().contains("armed injection 1: fail-command:status=write-fault,opcode=write"), out());
        assertEquals(1, server.device().faultInjector().active().size());

        assertEquals(0, Main.run("inject", "--socket", socket.toString(), "--list"));
        assertTrue(out().contains("media-error"), "the kinds are listed: " + out());
        assertEquals(0, Main.run("inspect", "--socket", socket.toString()));
        assertTrue(out().contains("injections armed: 1"), out());

        assertEquals(0, Main.run("inject", "--socket", socket.toString(), "--clear", "all"));
        assertTrue(server.device().faultInjector().active().isEmpty());
    }

    @Test
    void a_bad_spec_fails_with_the_servers_reason_and_the_server_keeps_serving() {
        assertEquals(1, Main.run("inject", "--socket", socket.toString(), "fail-command:status=oops"));
        assertTrue(err().contains("status=oops is not a status"), err());
        assertEquals(0, Main.run("inspect", "--socket", socket.toString(), "--json"));
        assertTrue(out().contains("\"device\" : \"nvme0\""), out());
    }

    @Test
    void a_socket_without_a_server_is_a_clear_error() {
        assertEquals(1, Main.run("inspect", "--socket", dir.resolve("nobody.sock").toString()));
        assertTrue(err().contains("no control socket"), err());
    }

    @Test
    void trace_prints_matching_events_and_stops_after_count() throws Exception {
        Thread t = Thread.ofVirtual().start(() -> Main.run("trace", "--socket", socket.toString(), "--kind", "injection", "--count", "1"));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!server.deviceTrace().enabled() && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        server.deviceTrace().emit(DeviceEvent.COMMAND, 1, 3, Map.of("name", "WRITE"));
        server.deviceTrace().emit(DeviceEvent.INJECTION, 1, 3, Map.of("fault", "drop-completion"));
        assertTrue(t.join(java.time.Duration.ofSeconds(10)), "trace --count 1 ends after one event");
        String text = out();
        assertTrue(text.contains("INJECTION") && text.contains("fault=drop-completion") && text.contains("cid 3"), text);
        assertFalse(text.contains("WRITE"), "COMMAND was filtered out: " + text);
    }

    @Test
    void trace_rejects_an_unknown_kind_before_connecting() {
        assertEquals(1, Main.run("trace", "--socket", socket.toString(), "--kind", "sneeze"));
        assertTrue(err().contains("unknown event kind 'sneeze'"), err());
    }
}
