package io.iovalab.iommu;

import java.util.concurrent.atomic.AtomicLongArray;

/** Counts values in power-of-two buckets: bucket i holds values in [2^(i-1), 2^i), bucket 0 holds 0. */
final class Log2Histogram {
    private final AtomicLongArray buckets = new AtomicLongArray(65);

    void add(long value) {
        buckets.incrementAndGet(value <= 0 ? 0 : 64 - Long.numberOfLeadingZeros(value));
    }

    long[] snapshot() {
        int last = 0;
        for (int i = 0; i < 65; i++) {
            if (buckets.get(i) != 0) {
                last = i;
            }
        }
        long[] out = new long[last + 1];
        for (int i = 0; i <= last; i++) {
            out[i] = buckets.get(i);
        }
        return out;
    }
}
