package io.iovalab.bench.nvme;

/**
 * Latencies in 100 ns buckets up to 100 ms (anything slower counts in the last bucket):
 * recording is an array increment, so it adds no allocation to the loop it measures.
 */
final class LatencyHistogram {
    private static final long BUCKET_NANOS = 100;
    private final long[] counts = new long[1_000_000];
    private long total;

    void record(long nanos) {
        int b = (int) Math.min(counts.length - 1, Math.max(0, nanos / BUCKET_NANOS));
        counts[b]++;
        total++;
    }

    long count() {
        return total;
    }

    /** The latency at or below which {@code fraction} of the recorded ones fall, in microseconds. */
    double percentileMicros(double fraction) {
        long want = (long) Math.ceil(fraction * total);
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= want && seen > 0) {
                return (i + 1) * BUCKET_NANOS / 1000.0;
            }
        }
        return Double.NaN;
    }
}
