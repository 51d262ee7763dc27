package io.iovalab.iommu;

/**
 * Recently unmapped ranges, so a fault can say "unmapped 3 ms ago" (a use-after-unmap in the
 * guest driver) rather than just "not mapped".
 */
final class UnmapHistory {
    private final long[] start;
    private final long[] end;
    private final long[] when;
    private int next;
    private int size;

    UnmapHistory(int capacity) {
        start = new long[capacity];
        end = new long[capacity];
        when = new long[capacity];
    }

    synchronized void add(long from, long to, long nanos) {
        start[next] = from;
        end[next] = to;
        when[next] = nanos;
        next = (next + 1) % start.length;
        size = Math.min(size + 1, start.length);
    }

    /** When the newest unmap covering {@code iova} happened, or 0. */
    synchronized long unmappedAt(long iova) {
        for (int i = 0; i < size; i++) {
            int k = Math.floorMod(next - 1 - i, start.length);
            if (Long.compareUnsigned(iova - start[k], end[k] - start[k]) < 0) {
                return when[k];
            }
        }
        return 0;
    }

    synchronized void clear() {
        size = 0;
        next = 0;
    }
}
