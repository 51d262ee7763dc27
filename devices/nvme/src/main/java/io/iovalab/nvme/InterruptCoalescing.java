package io.iovalab.nvme;

import java.util.Arrays;

/**
 * Interrupt Coalescing (Set Features 08h): an I/O CQ's interrupt waits until THR + 1 entries
 * are pending (bits 7:0, 0's based) or TIME x 100 us have passed since the first of them
 * (bits 15:8), whichever comes first. TIME = 0 means no delay, so coalescing only acts when both
 * are non-zero. Never on the admin CQ; a vector with CD set (Feature 09h) is never coalesced.
 * Worker-owned.
 */
final class InterruptCoalescing {
    private static final long TIME_UNIT_NANOS = 100_000;
    private final int[] pendingEntries;
    private final long[] firstPendingAt;
    private final boolean[] disabledVector;
    private int setting;

    InterruptCoalescing(int queues, int vectors) {
        pendingEntries = new int[queues];
        firstPendingAt = new long[queues];
        disabledVector = new boolean[vectors];
    }

    void set(int value) {
        setting = value & 0xffff;
    }

    int setting() {
        return setting;
    }

    /** Feature 09h: CD for {@code vector}; false for a vector the controller does not have. */
    boolean setVectorDisabled(int vector, boolean cd) {
        if (vector < 0 || vector >= disabledVector.length) {
            return false;
        }
        disabledVector[vector] = cd;
        return true;
    }

    boolean vectorDisabled(int vector) {
        return vector >= 0 && vector < disabledVector.length && disabledVector[vector];
    }

    private boolean applies(CompletionQueue cq) {
        return cq.qid != 0 && (setting & 0xff) != 0 && (setting >>> 8) != 0 && !vectorDisabled(cq.vector);
    }

    /** A completion entry went to {@code cq}, which will want an interrupt. */
    void posted(CompletionQueue cq) {
        if (pendingEntries[cq.qid]++ == 0) {
            firstPendingAt[cq.qid] = System.nanoTime();
        }
    }

    /** Whether {@code cq}'s pending interrupt should be raised now. */
    boolean due(CompletionQueue cq, long now) {
        return !applies(cq) || pendingEntries[cq.qid] > (setting & 0xff)
                || now - firstPendingAt[cq.qid] >= (setting >>> 8) * TIME_UNIT_NANOS;
    }

    void raised(CompletionQueue cq) {
        pendingEntries[cq.qid] = 0;
    }

    /** Nanoseconds until {@code cq}'s held interrupt is due by time. */
    long untilDue(CompletionQueue cq, long now) {
        return Math.max(0, firstPendingAt[cq.qid] + (setting >>> 8) * TIME_UNIT_NANOS - now);
    }

    /** Controller reset: the feature and every vector's CD back to 0. */
    void reset() {
        setting = 0;
        Arrays.fill(pendingEntries, 0);
        Arrays.fill(disabledVector, false);
    }

    /** A CQ went away: nothing of it stays pending. */
    void forget(int qid) {
        pendingEntries[qid] = 0;
    }
}
