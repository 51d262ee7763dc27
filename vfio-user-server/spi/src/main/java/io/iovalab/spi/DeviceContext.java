package io.iovalab.spi;

import io.iovalab.iommu.DmaAccess;

import java.util.concurrent.ThreadFactory;

/** What the server gives a device: its DMA view, shared memory for mmappable BARs, threads. */
public interface DeviceContext {

    /** Instance name used in logs, statistics and faults, e.g. {@code nvme0}. */
    String name();

    /** Every guest address the device touches goes through this. */
    DmaAccess dma();

    /**
     * Memory that can back a sparse-mmap area of a BAR: the client maps it into the guest, so
     * guest stores land there without a message (doorbells).
     */
    SharedMemory allocateShared(String purpose, long size) throws java.io.IOException;

    /**
     * Where the device reports commands, completions and interrupts for {@code iovalab trace}.
     * Call it once and keep it; the default is a trace nobody can subscribe to.
     */
    default DeviceTrace trace() {
        return new DeviceTrace(name());
    }

    /** Threads named after the device whose uncaught exceptions are logged, never lost. */
    ThreadFactory threads(String role);
}
