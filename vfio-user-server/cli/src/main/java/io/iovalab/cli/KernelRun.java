package io.iovalab.cli;

import java.util.List;

/**
 * The standard workload's results on one kernel.
 *
 * @param label  how the user named the kernel (image name or path)
 * @param kernel the release the guest reported (uname -r)
 * @param phases one result per {@link Workload#STANDARD} entry, in that order
 */
record KernelRun(String label, String kernel, List<PhaseResult> phases) {

    /** The phase whose requests span many pages: where the two-step API shows, if the kernel takes it. */
    PhaseResult large() {
        return phases.getLast();
    }

    long faults() {
        return phases.stream().mapToLong(PhaseResult::faults).sum();
    }

    long fioErrors() {
        return phases.stream().mapToLong(PhaseResult::fioErrors).sum();
    }

    boolean clean() {
        return faults() == 0 && fioErrors() == 0;
    }

    boolean twoStepPath() {
        return large().probe("dma_iova_link") > 0;
    }
}
