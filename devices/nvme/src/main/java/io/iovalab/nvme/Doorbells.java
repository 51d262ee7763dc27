package io.iovalab.nvme;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicIntegerArray;

/**
 * Where the worker finds SQyTDBL and CQyHDBL. With CAP.DSTRD = 0 the stride is 4 bytes:
 * SQ y's tail doorbell at BAR0 0x1000 + 8y, CQ y's head doorbell at 0x1000 + 8y + 4.
 * {@code trap}: every doorbell is a REGION_WRITE message the message thread stores here.
 * {@code mmap}: the doorbell page is a sparse-mmap area of BAR0; guest stores land in shared
 * memory without any message, so the worker must poll it.
 */
sealed interface Doorbells permits Doorbells.Trapped, Doorbells.Mapped {

    /** The {@code --device nvme:doorbells=} values. */
    enum Mode { TRAP, MMAP }

    Mode mode();

    int sqTail(int qid);

    int cqHead(int qid);

    /** A doorbell write that arrived as a message (the only kind in trap mode). */
    void store(int qid, boolean cqHead, int value);

    /** Controller reset: every doorbell back to 0. */
    void clear();

    /** Doorbells kept by the message thread. */
    final class Trapped implements Doorbells {
        private final AtomicIntegerArray sqTail;
        private final AtomicIntegerArray cqHead;

        Trapped(int queues) {
            sqTail = new AtomicIntegerArray(queues);
            cqHead = new AtomicIntegerArray(queues);
        }

        @Override
        public Mode mode() {
            return Mode.TRAP;
        }

        @Override
        public int sqTail(int qid) {
            return sqTail.get(qid);
        }

        @Override
        public int cqHead(int qid) {
            return cqHead.get(qid);
        }

        @Override
        public void store(int qid, boolean cq, int value) {
            (cq ? cqHead : sqTail).set(qid, value & 0xffff);
        }

        @Override
        public void clear() {
            for (int i = 0; i < sqTail.length(); i++) {
                sqTail.set(i, 0);
                cqHead.set(i, 0);
            }
        }
    }

    /** Doorbells in the mmapped page; {@code bar0} is indexed by BAR0 offset. */
    final class Mapped implements Doorbells {
        // volatile reads: a plain read in the worker's poll loop could be hoisted out of it
        private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();
        private final MemorySegment bar0;
        private final int queues;

        Mapped(MemorySegment bar0, int queues) {
            if (bar0.byteSize() < NvmeRegs.DOORBELLS + 8L * queues) {
                throw new IllegalArgumentException("doorbell memory too small for " + queues + " queues");
            }
            this.bar0 = bar0;
            this.queues = queues;
        }

        @Override
        public Mode mode() {
            return Mode.MMAP;
        }

        @Override
        public int sqTail(int qid) {
            return (int) INT.getVolatile(bar0, NvmeRegs.DOORBELLS + 8L * qid) & 0xffff;
        }

        @Override
        public int cqHead(int qid) {
            return (int) INT.getVolatile(bar0, NvmeRegs.DOORBELLS + 8L * qid + 4) & 0xffff;
        }

        @Override
        public void store(int qid, boolean cq, int value) {
            INT.setVolatile(bar0, NvmeRegs.DOORBELLS + 8L * qid + (cq ? 4 : 0), value & 0xffff);
        }

        @Override
        public void clear() {
            bar0.asSlice(NvmeRegs.DOORBELLS, 8L * queues).fill((byte) 0);
            VarHandle.fullFence();
        }
    }
}
