package io.iovalab.cli;

/** The sentences under the table, worded from the measured figures of one kernel. */
final class Verdict {
    private Verdict() {
    }

    static String twoStep(KernelRun run) {
        PhaseResult large = run.large();
        String device = "the device saw " + large.contiguous() + " of " + large.multiPage()
                + " multi-page commands as one contiguous IOVA range";
        return run.twoStepPath()
                ? "two-step DMA API: YES — " + large.name() + " requests went through dma_iova_link, and " + device
                : "two-step DMA API: NO — no dma_iova_link for this device (kernel without the API, or the path was not taken); "
                        + device;
    }

    static String cleanliness(KernelRun run) {
        return run.clean() ? "no IOMMU faults, no I/O errors"
                : "NOT CLEAN: " + run.faults() + " IOMMU faults, " + run.fioErrors() + " fio errors";
    }

    /** How the NVMe commands of the large phase pointed at their data: PRP lists or SGL descriptors. */
    static String dataPointers(KernelRun run) {
        PhaseResult large = run.large();
        return large.prpCommands() + " PRP / " + large.sglCommands() + " SGL";
    }
}
