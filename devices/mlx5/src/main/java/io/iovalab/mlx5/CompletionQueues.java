package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_EVENT_TYPE_COMP;

/**
 * Writing CQEs and raising completion events. A CQE goes into the next slot of the CQ ring with
 * the owner bit of the current pass (producer / size, so the driver tells new from old without a
 * producer index), the owner byte last; an armed CQ then sends one COMP EQE naming it to its EQ
 * and is disarmed. The driver re-arms through the UAR (mlx5_cq_arm), which also tells us its
 * consumer index: a CQ that already holds CQEs the driver has not polled gets its event at once.
 * Worker thread only, except {@link #arm}, which the message thread calls.
 */
final class CompletionQueues {
    private final Resources resources;
    private final EqTable eqs;
    /** Arm doorbells (cqn, consumer index) recorded by the message thread, applied by the worker in order. */
    private final ConcurrentLinkedQueue<long[]> arms = new ConcurrentLinkedQueue<>();
    long cqes;
    long errorCqes;
    long compEqes;
    long overruns;

    CompletionQueues(Resources resources, EqTable eqs) {
        this.resources = resources;
        this.eqs = eqs;
    }

    /** A CQ arm doorbell (UAR +0x20: sn/cmd/ci, then cqn), message thread. */
    void arm(int cqn, int ci) {
        arms.add(new long[] {cqn, ci});
    }

    boolean armsPending() {
        return !arms.isEmpty();
    }

    void serviceArms(DmaCommand dma) {
        long[] a;
        while ((a = arms.poll()) != null) {
            Resources.Cq cq = resources.cqs.get((int) a[0]);
            if (cq == null) {
                continue;
            }
            if (((cq.producer - a[1]) & 0xffffff) != 0) {
                cq.armed = false;
                event(dma, cq);
            } else {
                cq.armed = true;
            }
        }
    }

    /**
     * Writes {@code cqe} to CQ {@code cqn}; false when there is no such CQ or it is full (the
     * consumer index in its doorbell record says the driver has not polled enough: hardware
     * would raise a CQ error, we count and drop, so the guest sees a missing completion, not
     * an overwritten one).
     */
    boolean post(DmaCommand dma, int cqn, Cqe cqe) throws DmaFault {
        Resources.Cq cq = resources.cqs.get(cqn);
        if (cq == null || cq.pas.length == 0) {
            return false;
        }
        int size = 1 << cq.logSize;
        int ci = SendQueues.be32(dma, cq.dbrAddr) & 0xffffff;
        if (((cq.producer - ci) & 0xffffff) >= size) {
            overruns++;
            cq.overruns++;
            return false;
        }
        byte[] b = cqe.bytes();
        long index = cq.producer & (size - 1);
        long off = index * cq.cqeSize + (cq.cqeSize - Cqe.SIZE); // a 128-byte CQE carries the 64-byte one in its second half
        long iova = cq.pas[(int) (off / cq.pageSize)] + off % cq.pageSize;
        int owner = (int) ((cq.producer >>> cq.logSize) & 1);
        dma.write(iova, b, 0, Cqe.OP_OWN);
        VarHandle.storeStoreFence(); // the entry before its owner byte
        dma.writeByte(iova + Cqe.OP_OWN, (byte) (b[Cqe.OP_OWN] | owner));
        cq.producer++;
        cqes++;
        if (cqe.error()) {
            errorCqes++;
        }
        if (cq.armed) {
            cq.armed = false;
            event(dma, cq);
        }
        return true;
    }

    /** A COMP EQE naming the CQ on the CQ's EQ; the EQ's own arm decides the interrupt. */
    private void event(DmaCommand dma, Resources.Cq cq) {
        EventQueue eq = eqs.get(cq.eqn);
        if (eq == null) {
            return;
        }
        byte[] data = new byte[EventQueue.EQE_DATA_SIZE];
        Cqe.putBe32(data, 0x18, cq.cqn & 0xffffff); // mlx5_eqe_comp.cqn
        eqs.post(dma, eq, MLX5_EVENT_TYPE_COMP, 0, data);
        compEqes++;
    }

    void reset() {
        arms.clear();
    }
}
