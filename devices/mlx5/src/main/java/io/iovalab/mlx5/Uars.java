package io.iovalab.mlx5;

import java.util.BitSet;

/**
 * UAR pages: UAR index n is BAR0 page n (uar2pfn, uar.c, with 4 KiB UARs). Pages 0-2 hold the
 * initialization segment, so indices start at 3. Doorbells written to a UAR page are decoded by
 * offset alone ({@link Mlx5Device}); this class only hands the indices out.
 */
final class Uars {
    static final int FIRST = InitSegment.SIZE / 4096;
    private final int pages;
    private final BitSet allocated = new BitSet();

    Uars(int pages) {
        this.pages = pages;
    }

    /** The lowest free index, or -1. */
    int alloc() {
        int i = allocated.nextClearBit(FIRST);
        if (i >= pages) {
            return -1;
        }
        allocated.set(i);
        return i;
    }

    boolean free(int index) {
        if (index < FIRST || index >= pages || !allocated.get(index)) {
            return false;
        }
        allocated.clear(index);
        return true;
    }

    boolean allocated(int index) {
        return index >= FIRST && index < pages && allocated.get(index);
    }

    int count() {
        return allocated.cardinality();
    }

    void reset() {
        allocated.clear();
    }
}
