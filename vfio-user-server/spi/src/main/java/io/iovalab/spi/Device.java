package io.iovalab.spi;

import io.iovalab.pci.PciFunction;

import java.util.Map;

/** One emulated PCI function. */
public interface Device extends AutoCloseable {

    /** The function's config space, BARs and interrupts, built with {@link PciFunction#builder()}. */
    PciFunction function();

    /**
     * Returns the device to its power-on state. Called for DEVICE_RESET, a function-level reset
     * and when the client goes away; the server has already stopped delivering interrupts and
     * the IOVA space may be empty. Must not block on guest memory.
     */
    void reset(ResetReason reason);

    /** State for {@code iovalab inspect} and the verdict: plain values, lists and maps. */
    default Map<String, Object> inspect() {
        return Map.of();
    }

    /** Run-time fault injection ({@code iovalab inject}); devices without it keep the default. */
    default FaultInjector faultInjector() {
        return FaultInjector.NONE;
    }

    /** Stops the device's threads and releases its backends. */
    @Override
    void close();

    enum ResetReason {
        /** VFIO_USER_DEVICE_RESET */
        DEVICE_RESET,
        /** PCIe Device Control "Initiate Function Level Reset" */
        FLR,
        /** the vfio-user client disconnected */
        CLIENT_GONE
    }
}
