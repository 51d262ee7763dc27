package io.iovalab.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.cli.Main;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The README's main job, {@code iovalab demo}: on the default 7.3 kernel the 64 KiB workload
 * takes the two-step path (guest probes) and lands in contiguous IOVA ranges (device side),
 * while 4 KiB I/O stays one-step; in the same boot the mlx5 function's ODP exerciser goes
 * hmm_dma_map_pfn → dma_iova_link and the device executes UMR WQEs; no IOMMU faults on either.
 */
class DemoGuestTest {
    @Test
    void demo_verdict_shows_the_two_step_path_from_both_sides(@TempDir Path dir) throws Exception {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        int code;
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            code = Main.run("demo", "--json", "--workdir", dir.toString(), "--memory", "1536");
        } finally {
            System.setOut(stdout);
        }
        String out = captured.toString(StandardCharsets.UTF_8);
        System.out.println(out);
        assertEquals(0, code, out);
        JsonNode v = new ObjectMapper().readTree(out);
        assertTrue(v.path("clean").asBoolean());
        assertTrue(v.path("kernel").asText().startsWith("7.3"), out);
        JsonNode small = v.path("phases").path(0);
        JsonNode large = v.path("phases").path(1);
        assertEquals(0, small.path("probes").path("dma_iova_link").asLong(), "4 KiB I/O is one-step");
        assertTrue(small.path("probes").path("dma_map_phys").asLong() > 0, out);
        assertTrue(large.path("probes").path("dma_iova_try_alloc").asLong() > 0, out);
        assertTrue(large.path("probes").path("dma_iova_link").asLong() > 0, out);
        assertTrue(large.path("probes").path("dma_iova_sync").asLong() > 0, out);
        assertTrue(large.path("probes").path("dma_iova_unlink").asLong() > 0, out);
        assertTrue(large.path("probes").path("dma_iova_destroy").asLong() > 0, out);
        assertTrue(large.path("multiPage").asLong() > 0, out);
        assertEquals(large.path("multiPage").asLong(), large.path("contiguous").asLong(),
                "every multi-page command landed in one contiguous IOVA range");
        assertEquals(0, small.path("faults").asLong() + large.path("faults").asLong());

        JsonNode mlx5 = v.path("mlx5");
        assertTrue(mlx5.path("programOk").asBoolean(), "the ODP exerciser ran to the end: " + out);
        for (String f : new String[] {"hmm_dma_map_alloc", "hmm_dma_map_pfn", "dma_iova_link", "dma_iova_unlink"}) {
            assertTrue(mlx5.path("probes").path(f).asLong() > 0, f + " for mlx5_0's device: " + out);
        }
        assertTrue(v.path("mlx5TwoStepPath").asBoolean(), out);
        assertTrue(mlx5.path("umrWqes").asLong() > 0, "the device executed UMR WQEs: " + out);
        assertTrue(mlx5.path("mttLoaded").asLong() > 0, "the device loaded MTT entries: " + out);
        assertEquals(0, mlx5.path("faults").asLong(), "IOMMU faults on the mlx5 function");
        assertEquals(0, mlx5.path("wqeErrors").asLong() + mlx5.path("commandsFailed").asLong(), out);
    }
}
