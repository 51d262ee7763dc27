package io.iovalab.nvme;

/**
 * How the worker waits for mmapped doorbells, which nothing announces: after its last command
 * it spins for {@code spinNanos} (a guest at queue depth rings again within microseconds), then
 * parks for {@code minParkNanos}, doubling up to {@code maxParkNanos} while it stays idle. The
 * cap bounds both the latency of the first command after a pause and the idle CPU cost.
 */
record DoorbellPolling(long spinNanos, long minParkNanos, long maxParkNanos) {
    static final DoorbellPolling DEFAULT = new DoorbellPolling(20_000, 5_000, 200_000);

    DoorbellPolling {
        if (spinNanos < 0 || minParkNanos < 1 || maxParkNanos < minParkNanos) {
            throw new IllegalArgumentException("bad doorbell polling " + spinNanos + "/" + minParkNanos + "/" + maxParkNanos);
        }
    }
}
