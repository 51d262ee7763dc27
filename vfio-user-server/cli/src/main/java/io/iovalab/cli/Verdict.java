package io.iovalab.cli;

/** The sentences under the table, worded from the measured figures of one kernel. */
final class Verdict {
    private Verdict() {
    }

    /** The NVMe device's line (compare prints it per kernel; demo prefixes it with the device). */
    static String twoStep(KernelRun run) {
        PhaseResult large = run.large();
        String device = "the device saw " + large.contiguous() + " of " + large.multiPage()
                + " multi-page commands as one contiguous IOVA range";
        return run.twoStepPath()
                ? "two-step DMA API: YES — " + large.name() + " requests went through dma_iova_link, and " + device
                : "two-step DMA API: NO — no dma_iova_link for this device (kernel without the API, or the path was not taken); "
                        + device;
    }

    /** The mlx5 device's line: whether ODP's hmm_dma_map_pfn went on to dma_iova_link. */
    static String twoStep(OdpResult odp) {
        String device = "the device executed " + odp.umrWqes() + " UMR WQEs, loading " + odp.mttLoaded() + " and zapping "
                + odp.mttZapped() + " MTT entries";
        return odp.twoStepPath()
                ? "two-step DMA API: YES — ODP pages went hmm_dma_map_pfn → dma_iova_link (" + odp.probe("hmm_dma_map_pfn")
                        + " / " + odp.probe("dma_iova_link") + " calls), and " + device
                : "two-step DMA API: NO — no hmm_dma_map_pfn → dma_iova_link for mlx5_0 (" + odp.probe("hmm_dma_map_pfn")
                        + " / " + odp.probe("dma_iova_link") + " calls); " + device;
    }

    static String cleanliness(KernelRun run) {
        return run.clean() ? "no IOMMU faults, no I/O errors"
                : "NOT CLEAN: " + run.faults() + " IOMMU faults, " + run.fioErrors() + " fio errors"
                        + (run.mlx5() == null ? "" : ", " + run.mlx5Errors() + " mlx5 errors");
    }

    /** How the NVMe commands of the large phase pointed at their data: PRP lists or SGL descriptors. */
    static String dataPointers(KernelRun run) {
        PhaseResult large = run.large();
        return large.prpCommands() + " PRP / " + large.sglCommands() + " SGL";
    }
}
