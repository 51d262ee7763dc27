package io.iovalab.cli;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** The demo's verdict over both devices: either device's faults or errors, or a missing two-step path, spoil it. */
class DemoVerdictTest {
    static OdpResult odp(long pfn, long link, long faults, long wqeErrors, boolean ok) {
        return odp(pfn, link, faults, wqeErrors, ok, 1);
    }

    static OdpResult odp(long pfn, long link, long faults, long wqeErrors, boolean ok, long mttRanges) {
        return new OdpResult(Map.of("hmm_dma_map_alloc", 1L, "hmm_dma_map_pfn", pfn, "dma_iova_link", link), ok, 6, 32, 16,
                wqeErrors, 0, 0, 0, faults, 32, mttRanges);
    }

    static KernelRun run(OdpResult mlx5) {
        KernelRun nvme = CompareReportTest.run("7.3", 1600, 24800);
        return new KernelRun(nvme.label(), nvme.kernel(), nvme.phases(), mlx5);
    }

    @Test
    void both_devices_clean_and_two_step() {
        KernelRun r = run(odp(32, 32, 0, 0, true));
        assertTrue(r.clean());
        assertTrue(r.twoStepEverywhere());
        assertTrue(Verdict.twoStep(r.mlx5()).startsWith("two-step DMA API: YES — ODP pages went hmm_dma_map_pfn → dma_iova_link"));
    }

    @Test
    void an_mlx5_fault_error_or_failed_program_spoils_the_verdict() {
        assertFalse(run(odp(32, 32, 1, 0, true)).clean());
        assertFalse(run(odp(32, 32, 0, 1, true)).clean());
        assertFalse(run(odp(32, 32, 0, 0, false)).clean());
        assertTrue(Verdict.cleanliness(run(odp(32, 32, 0, 1, true))).contains("1 mlx5 errors"));
    }

    @Test
    void mlx5_without_iova_link_is_not_two_step() {
        KernelRun r = run(odp(32, 0, 0, 0, true));
        assertTrue(r.clean());
        assertTrue(r.twoStepPath(), "the NVMe side still took it");
        assertFalse(r.twoStepEverywhere());
        assertTrue(Verdict.twoStep(r.mlx5()).startsWith("two-step DMA API: NO"));
    }

    @Test
    void an_mlx5_only_run_has_no_nvme_section() {
        KernelRun r = new KernelRun("image 7.3", "7.3", List.of(), odp(32, 32, 0, 0, true));
        assertFalse(r.hasNvme());
        assertTrue(r.twoStepEverywhere());
        assertFalse(new KernelRun("x", "7.3", List.of(), null).twoStepEverywhere(), "no device, no verdict");
    }

    @Test
    void the_table_lists_every_odp_probe_and_the_device_counts() {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        OdpTable.print(new PrintStream(b, true, StandardCharsets.UTF_8), odp(32, 32, 0, 0, true));
        String t = b.toString(StandardCharsets.UTF_8);
        for (String f : GuestProbes.ODP) {
            assertTrue(t.contains(f), f + " row:\n" + t);
        }
        assertTrue(t.matches("(?s).*UMR WQEs executed\\s+6\\n.*MTT entries loaded / zapped\\s+32 / 16\\n.*"), t);
        assertTrue(t.matches("(?s).*MTT IOVA ranges for the ODP MR\\s+1 of 32 entries\\n.*"), t);
    }

    @Test
    void the_shared_exerciser_is_on_the_classpath() {
        String p = OdpExerciser.source();
        assertTrue(p.contains("ON_DEMAND") && p.contains("advise_mr") && p.contains("print('DONE'"), p);
    }
}
