package io.iovalab.iommu;

/**
 * A DMA the IOMMU model refused. Checked, so a device must decide how the command completes
 * (e.g. NVMe Data Transfer Error); it carries the fault record already filed in the fault log.
 * No stack trace: faults are guest behaviour, not bugs, and must be cheap.
 */
public final class DmaFault extends Exception {
    private final Fault fault;

    public DmaFault(Fault fault) {
        super(fault.toString(), null, false, false);
        this.fault = fault;
    }

    public Fault fault() {
        return fault;
    }
}
