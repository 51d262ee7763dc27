package io.iovalab.pci;

/**
 * A device's MMIO or I/O-port registers in one BAR. Offsets are BAR-relative; every access is
 * naturally aligned and 1, 2, 4 or 8 bytes wide (the framework splits anything else). Called on
 * the message thread, only while the BAR's decode is enabled: return fast and never wait for
 * guest memory (hand work to a device thread).
 */
public interface RegionHandler {

    /** For a BAR that holds only what the framework serves (an MSI-X table and PBA): reads 0, drops writes. */
    RegionHandler NONE = new RegionHandler() {
        @Override
        public long read(long offset, int width) {
            return 0;
        }

        @Override
        public void write(long offset, int width, long value) {
        }
    };

    /** Little-endian value of {@code width} bytes at {@code offset}; bits above the width are ignored. */
    long read(long offset, int width);

    void write(long offset, int width, long value);

    /**
     * A write that arrived as a message but fell in one of the BAR's sparse-mmap areas: the
     * framework has already stored it in the shared memory. A device that polls that memory
     * (mmapped doorbells) uses this to wake up, and to count writes that did not take the
     * mmapped path.
     */
    default void mmapAreaWritten(long offset, int width, long value) {
    }
}
