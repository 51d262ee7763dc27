package io.iovalab.pci;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Splits BAR accesses into naturally aligned 1/2/4/8-byte pieces (what a {@link RegionHandler}
 * is promised) and serves pieces that fall in a sparse-mmap area from the BAR's shared memory.
 */
final class BarAccess {
    /** Reads or writes one naturally aligned piece. */
    interface Piece {
        long read(long offset, int width);

        void write(long offset, int width, long value);
    }

    private BarAccess() {
    }

    static long ones(int width) {
        return width >= 8 ? -1L : (1L << (8 * width)) - 1;
    }

    /** Largest naturally aligned power-of-two width that starts at {@code offset} and fits in {@code left}. */
    static int pieceWidth(long offset, int left) {
        for (int w = 8; w > 1; w >>= 1) {
            if (left >= w && (offset & (w - 1)) == 0) {
                return w;
            }
        }
        return 1;
    }

    static long read(Piece p, long offset, int width) {
        long v = 0;
        for (int done = 0; done < width; ) {
            int w = pieceWidth(offset + done, width - done);
            v |= (p.read(offset + done, w) & ones(w)) << (8 * done);
            done += w;
        }
        return v;
    }

    static void write(Piece p, long offset, int width, long value) {
        for (int done = 0; done < width; ) {
            int w = pieceWidth(offset + done, width - done);
            p.write(offset + done, w, (value >>> (8 * done)) & ones(w));
            done += w;
        }
    }

    static MmapArea mmapAreaOf(Bar bar, long offset, int width) {
        for (MmapArea a : bar.mmapAreas()) {
            if (offset >= a.offset() && offset + width <= a.offset() + a.size()) {
                return a;
            }
        }
        return null;
    }

    static long sharedRead(Bar bar, long offset, int width) {
        MemorySegment seg = bar.shared().segment();
        return switch (width) {
            case 1 -> seg.get(ValueLayout.JAVA_BYTE, offset) & 0xffL;
            case 2 -> seg.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset) & 0xffffL;
            case 4 -> seg.get(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset) & 0xffffffffL;
            default -> seg.get(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset);
        };
    }

    static void sharedWrite(Bar bar, long offset, int width, long value) {
        MemorySegment seg = bar.shared().segment();
        switch (width) {
            case 1 -> seg.set(ValueLayout.JAVA_BYTE, offset, (byte) value);
            case 2 -> seg.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset, (short) value);
            case 4 -> seg.set(ValueLayout.JAVA_INT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset, (int) value);
            default -> seg.set(ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), offset, value);
        }
    }
}
