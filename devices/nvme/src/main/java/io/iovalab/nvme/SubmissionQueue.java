package io.iovalab.nvme;

/** An SQ the guest created: ring base IOVA, size, and the head the controller has consumed to. */
final class SubmissionQueue {
    final int qid;
    final long base;
    final int size;
    final CompletionQueue cq;
    int head;
    /** tail last seen (from the MMIO doorbell or the shadow doorbell) */
    int tail;
    long commands;
    long mmioDoorbells;

    SubmissionQueue(int qid, long base, int size, CompletionQueue cq) {
        this.qid = qid;
        this.base = base;
        this.size = size;
        this.cq = cq;
    }
}
