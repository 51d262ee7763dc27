package io.iovalab.example;

import io.iovalab.pci.RegionHandler;

import java.util.Arrays;

/** BAR2: plain memory behind trapped MMIO, so a guest can watch bytes pass through the server. */
final class DataWindow implements RegionHandler {
    private final byte[] bytes;

    DataWindow(int size) {
        bytes = new byte[size];
    }

    @Override
    public synchronized long read(long offset, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= (bytes[(int) offset + i] & 0xffL) << (8 * i);
        }
        return v;
    }

    @Override
    public synchronized void write(long offset, int width, long value) {
        for (int i = 0; i < width; i++) {
            bytes[(int) offset + i] = (byte) (value >>> (8 * i));
        }
    }

    synchronized void clear() {
        Arrays.fill(bytes, (byte) 0);
    }
}
