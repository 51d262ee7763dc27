package io.iovalab.guest;

import com.fasterxml.jackson.databind.JsonNode;
import io.iovalab.iommu.MapEntry;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;
import io.iovalab.web.WebServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 10, acceptance 3: the web view, loaded in headless Chromium while fio runs in a 7.3
 * guest behind intel-iommu, receives live trace events and draws the guest's IOMMU mappings —
 * the same ones the server's IOVA space holds. The screenshot is kept for the note.
 */
class WebViewGuestTest {
    static final Path SCREENSHOT = Path.of("target", "web-view.png").toAbsolutePath();
    private static final String RANGES = "[...document.querySelectorAll('#strip .range')].map(e => e.dataset.iova + ' ' + e.dataset.size)";

    @Test
    void the_page_shows_live_events_and_the_guests_mappings_during_fio(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        long t0 = System.nanoTime();
        try (VfioUserServer server = NvmeGuestTest.nvme(socket, "size=128M");
             WebServer web = WebServer.start(List.of(server), 0);
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest")).memoryMiB(1536).start()) {
            g.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(90), "nvme driver probe");
            CompletableFuture<ExecResult> fio = new CompletableFuture<>();
            Thread.ofVirtual().start(() -> {
                try {
                    fio.complete(g.run("fio --name=rr --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randread --bs=4k"
                            + " --iodepth=4 --time_based --runtime=25 --output-format=terse --terse-version=3", Duration.ofSeconds(120)));
                } catch (Exception | Error e) {
                    fio.completeExceptionally(e);
                }
            });

            Files.createDirectories(SCREENSHOT.getParent());
            try (HeadlessChromium page = HeadlessChromium.open(web.url(), 1400, 1100, SCREENSHOT.resolveSibling("web-view.chromium.log"))) {
                // waits for the page, not for a time: until it has loaded and shown events, queues and mappings
                JsonNode seen = awaitPage(page, "(() => ({events: Number(document.getElementById('event-count')?.textContent ?? 0),"
                        + " rows: document.querySelectorAll('#events tr.event').length,"
                        + " ranges: document.querySelectorAll('#strip .range').length,"
                        + " queues: document.querySelectorAll('#queue-rows tr.queue').length,"
                        + " kinds: Object.fromEntries([...document.querySelectorAll('#kind-counts .kind')].map(k => [k.dataset.kind, 1]))}))()",
                        // fio's reads under way: NVMe commands, the guest's per-I/O maps, data written into guest memory
                        v -> v.path("events").asLong() > 0 && v.path("rows").asInt() > 0 && v.path("ranges").asInt() > 0
                                && v.path("queues").asInt() >= 2 && v.path("kinds").has("COMMAND") && v.path("kinds").has("MAP")
                                && v.path("kinds").has("WRITE"));
                boolean duringFio = !fio.isDone();

                // the page's map, fetched between two dumps of the server's map: whatever the
                // server held throughout must be drawn. The same entry in both dumps (same map
                // time) was held throughout; the same IOVA alone was not, the guest reuses IOVAs.
                List<MapEntry> before = server.iovaSpace().dump();
                Set<String> drawn = new HashSet<>();
                page.evaluate("(async () => { await iovalab.refresh(); return " + RANGES + "; })()").forEach(n -> drawn.add(n.asText()));
                Set<MapEntry> after = new HashSet<>(server.iovaSpace().dump());
                Set<String> held = ranges(before.stream().filter(after::contains).toList());
                assertFalse(held.isEmpty(), "the guest's queues stay mapped");
                Set<String> missing = new HashSet<>(held);
                missing.removeAll(drawn);
                assertTrue(missing.isEmpty(), "mapped on the server but not drawn: " + missing + "; drawn: " + drawn);

                JsonNode kinds = page.evaluate("[...new Set([...document.querySelectorAll('#events tr.event')]"
                        + ".map(r => r.cells[2].textContent + '@' + r.cells[1].textContent))]");
                assertTrue(kinds.toString().contains("@nvme0"), "rows name the device: " + kinds);
                page.screenshot(SCREENSHOT);
                System.out.printf("web view: %s; page saw %s (fio still running: %s); %d ranges drawn, %d held by the server; kinds %s; screenshot %s%n",
                        web.url(), seen, duringFio, drawn.size(), held.size(), kinds, SCREENSHOT);
            }
            ExecResult r = fio.get(150, TimeUnit.SECONDS);
            r.requireSuccess("fio randread during the web view");
            String[] terse = r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow().split(";");
            assertEquals("0", terse[4], "fio errors: " + r.stdout());
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
            assertTrue(Files.size(SCREENSHOT) > 10_000, "a real screenshot");
        }
        System.out.printf("web view guest test took %.1f s%n", (System.nanoTime() - t0) / 1e9);
    }

    private static Set<String> ranges(List<MapEntry> dump) {
        return dump.stream().map(e -> "0x" + Long.toHexString(e.iova()) + " " + e.size()).collect(Collectors.toSet());
    }

    private static JsonNode awaitPage(HeadlessChromium page, String expression, java.util.function.Predicate<JsonNode> done) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        JsonNode v = page.evaluate(expression);
        while (!done.test(v)) {
            if (System.nanoTime() - deadline > 0) {
                fail("the page never showed events, queues and mappings; last: " + v);
            }
            Thread.sleep(250);
            v = page.evaluate(expression);
        }
        return v;
    }
}
