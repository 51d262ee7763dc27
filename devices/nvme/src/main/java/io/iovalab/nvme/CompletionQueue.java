package io.iovalab.nvme;

/** A CQ: ring base IOVA, size, tail and phase the controller posts with, head the host released. */
final class CompletionQueue {
    final int qid;
    final long base;
    final int size;
    final boolean interruptsEnabled;
    final int vector;
    int tail;
    int head;
    boolean phase = true;
    boolean interruptPending;
    int sqCount;

    CompletionQueue(int qid, long base, int size, boolean interruptsEnabled, int vector) {
        this.qid = qid;
        this.base = base;
        this.size = size;
        this.interruptsEnabled = interruptsEnabled;
        this.vector = vector;
    }

    boolean full() {
        return (tail + 1) % size == head;
    }
}
