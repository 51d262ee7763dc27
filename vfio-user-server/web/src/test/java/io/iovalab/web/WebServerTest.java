package io.iovalab.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.iommu.Backing;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.InputStream;
import java.io.OutputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The web view of a real NVMe device server, asked as a browser and a Prometheus scraper ask. */
class WebServerTest {
    @TempDir
    Path dir;
    VfioUserServer server;
    WebServer web;
    final Arena arena = Arena.ofShared();
    final HttpClient http = HttpClient.newHttpClient();
    final ObjectMapper json = new ObjectMapper();

    @BeforeEach
    void setUp() throws Exception {
        server = VfioUserServer.start(ServerOptions.defaults(dir.resolve("nvme.sock"), DeviceConfig.parse("nvme:size=16M")),
                DeviceRegistry.system());
        web = WebServer.start(List.of(server), 0);
    }

    @AfterEach
    void tearDown() {
        web.close();
        server.close();
        arena.close();
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(web.url()).resolve(path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void it_listens_on_loopback_only_on_the_port_it_reports() throws Exception {
        assertTrue(web.port() > 0);
        assertTrue(web.address().getAddress().isLoopbackAddress(), web.address().toString());
        InetAddress other = null;
        for (NetworkInterface n : NetworkInterface.networkInterfaces().toList()) {
            for (InetAddress a : n.inetAddresses().toList()) {
                if (!a.isLoopbackAddress() && a instanceof Inet4Address) {
                    other = a;
                }
            }
        }
        Assumptions.assumeTrue(other != null, "this machine has no non-loopback IPv4 address to try");
        InetAddress from = other;
        assertThrows(ConnectException.class, () -> new Socket(from, web.port()).close(), "refused on " + from);
    }

    @Test
    void the_page_is_self_contained_html() throws Exception {
        HttpResponse<String> r = get("/");
        assertEquals(200, r.statusCode());
        assertTrue(r.headers().firstValue("content-type").orElse("").startsWith("text/html"));
        String page = r.body();
        assertTrue(page.contains("id=\"event-count\"") && page.contains("id=\"strip\"") && page.contains("/ws/trace"), "page parts");
        assertFalse(Pattern.compile("(src|href)=\"(https?:)?//").matcher(page).find(), "nothing loaded from elsewhere");
    }

    @Test
    void devices_inspect_and_map_show_the_iommu_mappings() throws Exception {
        server.iovaSpace().map(0x10000, 0x2000, ram(0x2000), 0, true, false);
        JsonNode devices = json.readTree(get("/api/devices").body());
        assertEquals(1, devices.size());
        assertEquals("nvme0", devices.get(0).get("name").asText());
        assertEquals(1, devices.get(0).get("liveMappings").asLong());

        JsonNode map = json.readTree(get("/api/map?device=nvme0").body());
        assertEquals("0x10000", map.path("mappings").get(0).path("iova").asText());
        assertEquals(0x2000, map.path("mappings").get(0).path("size").asLong());
        assertEquals("r-", map.path("mappings").get(0).path("access").asText());

        JsonNode inspect = json.readTree(get("/api/inspect?device=nvme0").body());
        assertTrue(inspect.path("state").has("queues"), inspect.toString());
        assertEquals(1, inspect.path("iommu").path("mappings").size());

        JsonNode faults = json.readTree(get("/api/faults?device=nvme0").body());
        assertEquals(0, faults.path("total").asLong());
    }

    @Test
    void bad_requests_get_a_4xx_saying_why_and_the_server_keeps_serving() throws Exception {
        HttpResponse<String> noDevice = get("/api/inspect");
        assertEquals(400, noDevice.statusCode());
        assertTrue(noDevice.body().contains("?device=NAME") && noDevice.body().contains("nvme0"), noDevice.body());
        HttpResponse<String> unknown = get("/api/map?device=nope");
        assertEquals(404, unknown.statusCode());
        assertTrue(unknown.body().contains("no device 'nope'"), unknown.body());
        assertEquals(404, get("/etc/passwd").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(web.url() + "api/devices"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());

        assertTrue(raw("this is not HTTP\r\n\r\n").startsWith("HTTP/1.1 400"), "garbage");
        assertTrue(raw("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "X-Long: " + "a".repeat(20_000) + "\r\n\r\n").matches("(?s)HTTP/1.1 4\\d\\d.*"),
                "oversized header");
        assertTrue(raw("GET /api/devices HTTP/1.1\r\nHost: attacker.example\r\n\r\n").startsWith("HTTP/1.1 403"), "DNS-rebound host");
        assertTrue(raw("GET /ws/trace HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: http://evil.example\r\nUpgrade: websocket\r\n"
                + "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
                .startsWith("HTTP/1.1 403"), "cross-origin WebSocket");
        assertTrue(raw("GET /ws/trace HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").matches("(?s)HTTP/1.1 4\\d\\d.*"), "plain GET of the socket path");

        assertEquals(200, get("/api/devices").statusCode(), "still serving");
    }

    @Test
    void metrics_are_prometheus_text_per_device() throws Exception {
        server.iovaSpace().map(0x10000, 0x3000, ram(0x3000), 0, true, true);
        server.iovaSpace().map(0x20000, 0x1000, ram(0x1000), 0, true, true);
        server.iovaSpace().unmap(0x20000, 0x1000);
        HttpResponse<String> r = get("/metrics");
        assertEquals(200, r.statusCode());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.headers().firstValue("content-type").orElseThrow());
        String text = r.body();
        Pattern line = Pattern.compile("(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+\\{device=\"(?:[^\"\\\\]|\\\\.)*\"} -?\\d+)");
        for (String l : text.lines().toList()) {
            assertTrue(line.matcher(l).matches(), "not exposition format: " + l);
        }
        assertTrue(text.contains("# TYPE iovalab_dma_maps_total counter\n"), text);
        assertTrue(text.contains("iovalab_dma_maps_total{device=\"nvme0\"} 2\n"), text);
        assertTrue(text.contains("iovalab_dma_unmaps_total{device=\"nvme0\"} 1\n"), text);
        assertTrue(text.contains("iovalab_dma_mapped_bytes{device=\"nvme0\"} 12288\n"), text);
        assertTrue(text.contains("iovalab_dma_mapped_bytes_high_water{device=\"nvme0\"} 16384\n"), text);
        for (String name : List.of("iovalab_iommu_faults_total", "iovalab_commands_total", "iovalab_dma_read_bytes_total",
                "iovalab_dma_written_bytes_total")) {
            assertTrue(text.contains(name + "{device=\"nvme0\"} 0\n"), name + " in\n" + text);
        }
    }

    @Test
    void label_values_are_escaped() {
        assertEquals("a\\\"b\\\\c\\nd", PrometheusMetrics.escape("a\"b\\c\nd"));
    }

    @Test
    void the_trace_websocket_streams_map_and_device_events() throws Exception {
        List<JsonNode> events = new CopyOnWriteArrayList<>();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + web.port() + "/ws/trace"),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                        try {
                            events.add(json.readTree(data.toString()));
                        } catch (Exception e) {
                            fail(e);
                        }
                        w.request(1);
                        return null;
                    }
                }).join();
        awaitCondition(() -> server.iovaSpace().trace().dmaEnabled() && server.deviceTrace().enabled());
        server.iovaSpace().map(0x20000, 0x1000, ram(0x1000), 0, true, true);
        server.deviceTrace().emit(DeviceEvent.COMMAND, 1, 7, Map.of("opcode", "0x02"));
        awaitCondition(() -> events.size() >= 2);
        assertEquals("MAP", events.get(0).get("kind").asText());
        assertEquals("0x20000", events.get(0).get("iova").asText());
        assertEquals("nvme0", events.get(0).get("device").asText());
        assertEquals("COMMAND", events.get(1).get("kind").asText());
        assertEquals(7, events.get(1).get("cid").asInt());
        ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
        awaitCondition(() -> !server.iovaSpace().trace().dmaEnabled() && !server.deviceTrace().enabled());
    }

    @Test
    void a_trace_for_an_unknown_device_is_closed_with_the_reason() throws Exception {
        StringBuilder reason = new StringBuilder();
        http.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:" + web.port() + "/ws/trace?device=nope"),
                new WebSocket.Listener() {
                    @Override
                    public CompletionStage<?> onClose(WebSocket w, int status, String why) {
                        synchronized (reason) {
                            reason.append(status).append(' ').append(why);
                        }
                        return null;
                    }
                }).join();
        awaitCondition(() -> {
            synchronized (reason) {
                return !reason.isEmpty();
            }
        });
        assertEquals("1008 no device 'nope'", reason.toString());
    }

    private String raw(String request) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), web.port())) {
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
        }
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

    private static void awaitCondition(BooleanSupplier ok) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!ok.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("condition not reached");
            }
            Thread.sleep(5);
        }
    }
}
