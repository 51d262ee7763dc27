package io.iovalab.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.cli.Main;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * {@code iovalab compare}'s built-in example, 6.12 (baseline) against 7.3 (default), run once for
 * the whole class (two TCG guests are the expensive part): what each side saw on both devices
 * (NVMe fio phases, mlx5 ODP exerciser), and the HTML report rendered in headless Chromium.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CompareGuestTest {
    private static final List<String> TWO_STEP = List.of("dma_iova_try_alloc", "dma_iova_link", "dma_iova_sync",
            "dma_iova_unlink", "dma_iova_destroy");

    @TempDir
    static Path dir;

    private JsonNode result;
    private String out;
    private JsonNode baseline;
    private JsonNode current;

    @BeforeAll
    void compare() throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            code = Main.run("compare", "--json", "--workdir", dir.toString(), "--report", dir.resolve("report.html").toString(),
                    "--memory", "1536");
        } finally {
            System.setOut(stdout);
        }
        out = captured.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertEquals(0, code, out);
        result = new ObjectMapper().readTree(out);
        baseline = result.path("kernels").path(0);
        current = result.path("kernels").path(1);
    }

    private static JsonNode large(JsonNode kernel) {
        return kernel.path("phases").path(1);
    }

    @Test
    void the_built_in_example_is_6_12_against_7_3() {
        assertTrue(baseline.path("kernel").asText().startsWith("6.12"), out);
        assertTrue(current.path("kernel").asText().startsWith("7.3"), out);
    }

    @Test
    void two_step_calls_only_on_7_3() {
        for (JsonNode phase : baseline.path("phases")) {
            for (String f : TWO_STEP) {
                assertEquals(0, phase.path("probes").path(f).asLong(-1), "6.12 " + phase.path("name").asText() + " " + f);
            }
        }
        assertTrue(large(current).path("probes").path("dma_iova_try_alloc").asLong() > 0, out);
        assertTrue(large(current).path("probes").path("dma_iova_link").asLong() > 0, out);
        assertFalse(baseline.path("twoStepPath").asBoolean());
        assertTrue(current.path("twoStepPath").asBoolean());
    }

    /** The mlx5 ODP path: 6.12 has no hmm_dma_map_pfn → dma_iova_link, 7.3 takes it for the exerciser's MR. */
    @Test
    void mlx5_odp_two_step_calls_only_on_7_3() {
        JsonNode old = baseline.path("mlx5");
        JsonNode now = current.path("mlx5");
        for (String f : List.of("hmm_dma_map_pfn", "dma_iova_try_alloc", "dma_iova_link", "dma_iova_unlink")) {
            assertEquals(0, old.path("probes").path(f).asLong(-1), "6.12 mlx5 " + f + ": " + out);
        }
        assertTrue(now.path("probes").path("hmm_dma_map_pfn").asLong() > 0, out);
        assertTrue(now.path("probes").path("dma_iova_link").asLong() > 0, out);
        assertFalse(baseline.path("mlx5TwoStepPath").asBoolean(), out);
        assertTrue(current.path("mlx5TwoStepPath").asBoolean(), out);
    }

    /**
     * The device-side difference: after the prefetch the ODP MR's MTT holds every page on both
     * kernels, but 7.3 linked them into one IOVA allocation (one ascending contiguous range) while
     * 6.12's ib_umem_odp mapped each page with its own dma_map_page (more than one range).
     */
    @Test
    void mlx5_odp_mr_mtt_is_one_contiguous_iova_range_on_7_3_and_several_on_6_12() {
        JsonNode old = baseline.path("mlx5");
        JsonNode now = current.path("mlx5");
        long entries = now.path("mttEntries").asLong(-1);
        assertTrue(entries > 1, "7.3: the ODP MR's MTT entries after the prefetch: " + out);
        assertEquals(entries, old.path("mttEntries").asLong(-1), "the same MR on both kernels: " + out);
        assertEquals(1, now.path("mttIovaRanges").asLong(-1), "7.3: one contiguous IOVA range: " + out);
        assertTrue(old.path("mttIovaRanges").asLong(-1) > 1, "6.12: more than one IOVA range: " + out);
        assertTrue(summary("mlx5 ODP MR's MTT IOVA contiguity differs"), out);
    }

    @Test
    void no_iommu_faults_and_no_io_errors_on_either_kernel() {
        for (JsonNode k : result.path("kernels")) {
            for (JsonNode phase : k.path("phases")) {
                assertEquals(0, phase.path("faults").asLong(-1), k.path("kernel") + " " + phase.path("name"));
                assertEquals(0, phase.path("fioErrors").asLong(-1), k.path("kernel") + " " + phase.path("name"));
            }
            JsonNode odp = k.path("mlx5");
            assertTrue(odp.path("programOk").asBoolean(), k.path("kernel") + " ODP exerciser: " + out);
            assertEquals(0, odp.path("faults").asLong(-1), k.path("kernel") + " mlx5");
            assertEquals(0, odp.path("wqeErrors").asLong(-1), k.path("kernel") + " mlx5");
            assertEquals(0, odp.path("commandsFailed").asLong(-1), k.path("kernel") + " mlx5");
        }
        assertTrue(result.path("clean").asBoolean());
    }

    @Test
    void device_side_figures_are_there_for_both_kernels() {
        for (JsonNode k : result.path("kernels")) {
            for (JsonNode phase : k.path("phases")) {
                String what = k.path("kernel").asText() + " " + phase.path("name").asText();
                long commands = phase.path("commands").asLong();
                assertTrue(phase.path("ios").asLong() > 0, what);
                assertTrue(commands >= phase.path("ios").asLong(), what + ": every read is a device command");
                assertTrue(phase.path("dmaMaps").asLong() > 0, what);
                assertTrue(phase.path("dmaUnmaps").asLong() > 0, what);
                long histogram = 0;
                for (JsonNode bucket : phase.path("rangesPerCommand")) {
                    histogram += bucket.asLong();
                }
                assertEquals(commands, histogram, what + ": the IOVA-range histogram covers every command");
            }
            assertTrue(large(k).path("multiPage").asLong() > 0, k.path("kernel").asText());
        }
    }

    /**
     * Both kernels hand the device each 64 KiB read as one contiguous IOVA range: 7.3 through
     * dma_iova_link, 6.12 because its IOMMU sg mapping takes one IOVA allocation per request. So
     * NVMe contiguity is reported for both and is not where they differ (mlx5 ODP's is, above), and the summary says so.
     */
    @Test
    void iova_contiguity_is_reported_for_both_kernels_and_is_the_same() {
        for (JsonNode k : List.of(baseline, current)) {
            assertEquals(large(k).path("multiPage").asLong(), large(k).path("contiguous").asLong(),
                    k.path("kernel") + ": every multi-page command in one contiguous IOVA range");
        }
        assertTrue(summary("NVMe IOVA contiguity: no device-side difference"), out);
    }

    /**
     * The data-pointer form the device parsed is the same on both kernels too. A 4 KiB read is
     * one page, which both put in PRP1. A 64 KiB read counts as one segment once the IOMMU has
     * mapped it (6.12 averages over the sg entries left after dma_map_sgtable merged them, 7.3
     * over its one coalesced IOVA range), so both pick an SGL data block over the 32 KiB
     * sgl_threshold. Each read must show up as exactly one PRP or SGL command.
     */
    @Test
    void data_pointers_are_prp_for_4k_and_sgl_for_64k_on_both_kernels() {
        for (JsonNode k : List.of(baseline, current)) {
            JsonNode small = k.path("phases").path(0);
            assertEquals(small.path("ios").asLong(), small.path("prpCommands").asLong(), k.path("kernel") + " 4k: " + out);
            assertEquals(0, small.path("sglCommands").asLong(), k.path("kernel") + " 4k: " + out);
            assertEquals(large(k).path("ios").asLong(), large(k).path("sglCommands").asLong(), k.path("kernel") + " 64k: " + out);
            assertEquals(0, large(k).path("prpCommands").asLong(), k.path("kernel") + " 64k: " + out);
        }
    }

    private boolean summary(String prefix) {
        for (JsonNode line : result.path("summary")) {
            if (line.asText().startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * The report, as a browser shows it: every bar colour the report's SVG uses covers about as
     * many screen pixels as its bars' area, so the plots rendered rather than an empty page.
     */
    @Test
    void the_report_screenshot_shows_the_plots() throws Exception {
        Path report = Path.of(result.path("report").asText());
        String html = Files.readString(report);
        Map<Integer, Double> area = barArea(html);
        assertTrue(area.size() >= 4, "two colours per kernel: " + area.keySet());
        BufferedImage png = ImageIO.read(ChromiumScreenshot.take(report, dir.resolve("report.png"), 1200, 2800).toFile());
        Map<Integer, Integer> pixels = new HashMap<>();
        for (int y = 0; y < png.getHeight(); y++) {
            for (int x = 0; x < png.getWidth(); x++) {
                int rgb = png.getRGB(x, y) & 0xffffff;
                if (area.containsKey(rgb)) {
                    pixels.merge(rgb, 1, Integer::sum);
                }
            }
        }
        for (var e : area.entrySet()) {
            int seen = pixels.getOrDefault(e.getKey(), 0);
            String colour = String.format("#%06x", e.getKey());
            System.out.printf("report screenshot: %s %d pixels for %.0f px² of bars%n", colour, seen, e.getValue());
            assertTrue(e.getValue() > 1000, colour + " bars have area in the SVG: " + e.getValue());
            assertTrue(seen > 0.7 * e.getValue(), colour + ": " + seen + " pixels on screen for " + e.getValue() + " px² of bars");
        }
    }

    /** Drawn area per bar colour (bars and legend keys) in the report's SVG. */
    private static Map<Integer, Double> barArea(String html) {
        Matcher m = Pattern.compile("<rect x=\"[0-9.]+\" y=\"[0-9.]+\" width=\"([0-9.]+)\" height=\"([0-9.]+)\" fill=\"#([0-9a-f]{6})\"")
                .matcher(html);
        Map<Integer, Double> area = new HashMap<>();
        while (m.find()) {
            area.merge(Integer.parseInt(m.group(3), 16), Double.parseDouble(m.group(1)) * Double.parseDouble(m.group(2)),
                    Double::sum);
        }
        return area;
    }
}
