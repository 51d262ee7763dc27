package io.iovalab.pci;

/**
 * A device's MMIO or I/O-port registers in one BAR. Offsets are BAR-relative; widths are 1, 2, 4
 * or 8 bytes and the framework splits anything else. Called on the message thread: return fast
 * and never wait for guest memory (hand work to a device thread).
 */
public interface RegionHandler {

    /** Little-endian value of {@code width} bytes at {@code offset}. */
    long read(long offset, int width);

    void write(long offset, int width, long value);
}
