package io.iovalab.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The sentences that say what differed between two kernels, worded from the figures: which one
 * took the two-step path, whether the device saw a difference in IOVA contiguity, and how the
 * NVMe commands pointed at their data.
 */
final class CompareSummary {
    private CompareSummary() {
    }

    static List<String> lines(KernelRun a, KernelRun b) {
        List<String> out = new ArrayList<>();
        boolean nvme = a.hasNvme() && b.hasNvme();
        if (nvme) {
            for (KernelRun r : List.of(a, b)) {
                out.add(r.kernel() + ": " + Verdict.twoStep(r));
            }
            out.add(contiguity(a, b));
        }
        if (a.mlx5() != null && b.mlx5() != null) {
            for (KernelRun r : List.of(a, b)) {
                out.add(r.kernel() + ": mlx5 ODP " + Verdict.twoStep(r.mlx5()));
            }
            out.add(mttContiguity(a, b));
        }
        if (nvme) {
            String form = form(a.large()).equals(form(b.large())) ? "the same form on both, " : "differ, ";
            out.add("NVMe data pointers for " + a.large().name() + ": " + form + Verdict.dataPointers(a) + " on " + a.kernel()
                    + ", " + Verdict.dataPointers(b) + " on " + b.kernel());
        }
        for (KernelRun r : List.of(a, b)) {
            out.add(r.kernel() + ": " + Verdict.cleanliness(r));
        }
        return out;
    }

    private static String contiguity(KernelRun a, KernelRun b) {
        double ca = contiguousShare(a.large());
        double cb = contiguousShare(b.large());
        String figures = String.format(Locale.ROOT, "%.1f%% of %s's multi-page commands on %s, %.1f%% on %s", ca,
                a.large().name(), a.kernel(), cb, b.kernel());
        return (ca == cb ? "NVMe IOVA contiguity: no device-side difference, one contiguous range for "
                : "NVMe IOVA contiguity differs: one contiguous range for ") + figures;
    }

    /** The ODP MR's MTT after the prefetch: how many contiguous IOVA ranges the device was handed on each kernel. */
    static String mttContiguity(KernelRun a, KernelRun b) {
        OdpResult x = a.mlx5();
        OdpResult y = b.mlx5();
        String figures = OdpTable.ranges(x) + " on " + a.kernel() + ", " + OdpTable.ranges(y) + " on " + b.kernel();
        if (x.mttEntries() < 0 || y.mttEntries() < 0) {
            return "mlx5 ODP MR's MTT IOVA contiguity: not measured (" + figures + ")";
        }
        return (x.mttIovaRanges() == y.mttIovaRanges() ? "mlx5 ODP MR's MTT IOVA contiguity: no device-side difference, "
                : "mlx5 ODP MR's MTT IOVA contiguity differs: ") + "contiguous IOVA ranges " + figures;
    }

    /** PRP, SGL, or mixed when the phase's commands used both. */
    static String form(PhaseResult p) {
        return p.sglCommands() == 0 ? "PRP" : p.prpCommands() == 0 ? "SGL" : "mixed";
    }

    static double contiguousShare(PhaseResult p) {
        return p.multiPage() == 0 ? 0 : 100.0 * p.contiguous() / p.multiPage();
    }
}
