package io.iovalab.control;

import com.fasterxml.jackson.databind.JsonNode;
import io.iovalab.iommu.Backing;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.*;

/** The control socket of a real NVMe device server, driven as the CLI drives it. */
class ControlServerTest {
    @TempDir
    Path dir;
    VfioUserServer server;
    ControlServer control;
    final Arena arena = Arena.ofShared();

    @BeforeEach
    void setUp() throws Exception {
        Path socket = dir.resolve("nvme.sock");
        server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("nvme:size=16M")), DeviceRegistry.system());
        control = ControlServer.start(server);
    }

    @AfterEach
    void tearDown() {
        control.close();
        server.close();
        arena.close();
    }

    ControlClient client() throws Exception {
        return ControlClient.connect(dir.resolve("nvme.sock"));
    }

    @Test
    void the_control_socket_sits_next_to_the_device_socket_with_mode_0600() throws Exception {
        assertEquals(dir.resolve("nvme.sock.ctl"), control.path());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(control.path())));
        control.close();
        assertFalse(Files.exists(control.path()), "closing removes the socket file");
    }

    @Test
    void inspect_shows_the_device_the_iommu_map_and_the_queues() throws Exception {
        server.iovaSpace().map(0x10000, 0x2000, ram(0x2000), 0, true, false);
        try (ControlClient c = client()) {
            JsonNode i = c.inspect();
            assertEquals("nvme0", i.get("device").asText());
            JsonNode maps = i.path("iommu").path("mappings");
            assertEquals(1, maps.size());
            assertEquals("0x10000", maps.get(0).get("iova").asText());
            assertEquals("r-", maps.get(0).get("access").asText());
            assertEquals(1, i.path("iommu").path("statistics").path("maps").asLong());
            assertTrue(i.path("state").has("queues"), i.toString());
            assertEquals("0x00000000", i.path("state").path("csts").asText());
        }
    }

    @Test
    void faults_are_armed_listed_and_cleared_over_the_socket() throws Exception {
        try (ControlClient c = client()) {
            JsonNode inj = c.inject("drop-completion:queue=1,count=2");
            long id = inj.get("id").asLong();
            assertEquals(2, inj.get("remaining").asLong());
            JsonNode list = c.request(Map.of("op", "injections"));
            assertEquals(id, list.path("injections").get(0).get("id").asLong());
            assertTrue(list.path("kinds").toString().contains("controller-fatal"));
            assertEquals(1, c.inspect().path("injections").size());
            assertEquals(1, c.request(Map.of("op", "clear", "injection", id)).get("cleared").asInt());
            assertEquals(0, server.device().faultInjector().active().size());
            ControlClient.ControlException e = assertThrows(ControlClient.ControlException.class,
                    () -> c.request(Map.of("op", "clear", "injection", id)));
            assertTrue(e.getMessage().contains("no armed injection " + id), e.getMessage());
        }
    }

    @Test
    void bad_requests_get_a_clear_error_and_the_connection_stays_usable() throws Exception {
        try (ControlClient c = client()) {
            String[][] cases = {
                    {"this is not json", "request is not JSON"},
                    {"[1,2]", "a request is a JSON object"},
                    {"{}", "missing \"op\""},
                    {"{\"op\":\"reboot\"}", "unknown op 'reboot'"},
                    {"{\"op\":\"inject\"}", "\"spec\" (a string) is required"},
                    {"{\"op\":\"inject\",\"spec\":\"drop-completion:queue=x\"}", "queue=x is not a number"},
                    {"{\"op\":\"inject\",\"spec\":\"explode\"}", "unknown fault kind 'explode'"},
                    {"{\"op\":\"trace\",\"kinds\":[\"BOGUS\"]}", "unknown event kind 'BOGUS'"},
                    {"{\"op\":\"trace\",\"queue\":\"one\"}", "\"queue\" must be a number"},
                    {"{\"op\":\"clear\"}", "clear needs"},
            };
            for (String[] bad : cases) {
                c.sendLine(bad[0]);
                ControlClient.ControlException e = assertThrows(ControlClient.ControlException.class, c::answer, bad[0]);
                assertTrue(e.getMessage().contains(bad[1]), bad[0] + " -> " + e.getMessage());
            }
            assertEquals("nvme0", c.inspect().get("device").asText());
        }
        assertTrue(server.device().faultInjector().active().isEmpty(), "nothing was armed by the bad requests");
    }

    @Test
    void an_overlong_request_closes_that_connection_only() throws Exception {
        try (ControlClient c = client()) {
            c.sendLine("{\"op\":\"" + "x".repeat(ControlServer.MAX_LINE + 10) + "\"}");
            ControlClient.ControlException e = assertThrows(ControlClient.ControlException.class, c::answer);
            assertTrue(e.getMessage().contains("longer than"), e.getMessage());
        }
        try (ControlClient c = client()) {
            assertEquals("nvme0", c.inspect().get("device").asText());
        }
    }

    @Test
    void trace_streams_iommu_and_device_events_through_the_filter_and_stops_when_the_client_leaves() throws Exception {
        List<JsonNode> events = new CopyOnWriteArrayList<>();
        ControlClient c = client();
        Thread reader = Thread.ofVirtual().start(() -> {
            try {
                c.trace(TraceFilter.of(null, -1, List.of("MAP", "INJECTION")), e -> events.add(e), d -> { });
            } catch (Exception ignored) {
                // the test closes the connection
            }
        });
        awaitCondition(() -> server.iovaSpace().trace().dmaEnabled() && server.deviceTrace().enabled());
        server.iovaSpace().map(0x20000, 0x1000, ram(0x1000), 0, true, true);
        server.iovaSpace().unmap(0x20000, 0x1000);
        server.deviceTrace().emit(DeviceEvent.COMMAND, 1, 7, Map.of("opcode", "0x01"));
        server.deviceTrace().emit(DeviceEvent.INJECTION, 1, 7, Map.of("fault", "drop-completion"));
        awaitCondition(() -> events.size() >= 2);
        assertEquals("MAP", events.get(0).get("kind").asText());
        assertEquals("0x20000", events.get(0).get("iova").asText());
        assertEquals("INJECTION", events.get(1).get("kind").asText());
        assertEquals("drop-completion", events.get(1).get("fault").asText());
        assertEquals(7, events.get(1).get("cid").asInt());
        assertEquals(2, events.size(), "UNMAP and COMMAND were filtered out: " + events);

        c.close();
        reader.join();
        awaitCondition(() -> !server.iovaSpace().trace().dmaEnabled() && !server.deviceTrace().enabled());
    }

    @Test
    void a_queue_filter_leaves_out_events_of_other_queues_and_of_no_queue() throws Exception {
        List<JsonNode> events = new CopyOnWriteArrayList<>();
        try (ControlClient c = client()) {
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    c.trace(TraceFilter.of(null, 2, List.of()), e -> events.add(e) && events.size() < 1, d -> { });
                } catch (Exception ignored) {
                    // closed by the test
                }
            });
            awaitCondition(() -> server.deviceTrace().enabled());
            server.iovaSpace().map(0x20000, 0x1000, ram(0x1000), 0, true, true);
            server.deviceTrace().emit(DeviceEvent.COMMAND, 1, 1, Map.of());
            server.deviceTrace().emit(DeviceEvent.COMMAND, 2, 9, Map.of());
            reader.join();
            assertEquals(1, events.size());
            assertEquals(9, events.getFirst().get("cid").asInt());
        }
    }

    @Test
    void a_missing_control_socket_is_reported_with_its_path() {
        Exception e = assertThrows(Exception.class, () -> ControlClient.connect(dir.resolve("other.sock")));
        assertTrue(e.getMessage().contains("other.sock.ctl"), e.getMessage());
    }

    private Backing ram(long size) {
        MemorySegment seg = arena.allocate(size, 4096);
        return new Backing() {
            @Override
            public MemorySegment segment() {
                return seg;
            }

            @Override
            public void retain() {
            }

            @Override
            public void release() {
            }

            @Override
            public String describe() {
                return "test";
            }
        };
    }

    private static void awaitCondition(java.util.function.BooleanSupplier ok) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("condition not reached");
            }
            Thread.sleep(5);
        }
    }
}
