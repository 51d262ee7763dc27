package io.iovalab.cli;

import java.util.List;

/**
 * The standard workload's results on one kernel.
 *
 * @param label  how the user named the kernel (image name or path)
 * @param kernel the release the guest reported (uname -r)
 * @param phases one result per {@link Workload#STANDARD} entry, in that order; empty when no NVMe device was attached
 * @param mlx5   the ODP exerciser's result, or null when no mlx5 device was attached
 */
record KernelRun(String label, String kernel, List<PhaseResult> phases, OdpResult mlx5) {

    /** An NVMe-only run (compare's). */
    KernelRun(String label, String kernel, List<PhaseResult> phases) {
        this(label, kernel, phases, null);
    }

    boolean hasNvme() {
        return !phases.isEmpty();
    }

    /** The phase whose requests span many pages: where the two-step API shows, if the kernel takes it. */
    PhaseResult large() {
        return phases.getLast();
    }

    long faults() {
        return phases.stream().mapToLong(PhaseResult::faults).sum() + (mlx5 == null ? 0 : mlx5.faults());
    }

    long fioErrors() {
        return phases.stream().mapToLong(PhaseResult::fioErrors).sum();
    }

    /** Device-side mlx5 failures: a failed exerciser, error CQEs, failed firmware commands. */
    long mlx5Errors() {
        return mlx5 == null ? 0 : (mlx5.programOk() ? 0 : 1) + mlx5.wqeErrors() + mlx5.commandsFailed();
    }

    boolean clean() {
        return faults() == 0 && fioErrors() == 0 && mlx5Errors() == 0;
    }

    /** The NVMe device's 64 KiB phase went through dma_iova_link (false without an NVMe device). */
    boolean twoStepPath() {
        return hasNvme() && large().probe("dma_iova_link") > 0;
    }

    /** Every attached device's path used the two-step API: what the demo's verdict requires. */
    boolean twoStepEverywhere() {
        return (!hasNvme() || twoStepPath()) && (mlx5 == null || mlx5.twoStepPath()) && (hasNvme() || mlx5 != null);
    }
}
