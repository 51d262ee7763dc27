package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.mlx5.ifc.Mlx5Ifc.cmd_hca_cap;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.iovalab.mlx5.Cqe.*;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The send-queue engine. The driver writes WQEs into the QP buffer, the new send counter into
 * the doorbell record (dword 1) and then stores to the UAR's doorbell area; the store only tells
 * us to look, the doorbell record says how far. Two kinds of QP execute here: mlx5_ib's REG_UMR
 * QP, whose UMR WQEs load and zap an mkey's translation table (the MTT entries are the IOVAs
 * hmm_dma_map_pfn linked) and enable or revoke the key; and the data QPs, whose SEND / RDMA
 * WRITE / RDMA READ WQEs go to {@link Loopback}. Every WQE taken completes with a CQE if the
 * driver asked for one (fm_ce_se CQ_UPDATE), and every WQE the device cannot execute completes
 * with an error CQE and moves the QP to ERR, after which its outstanding send and receive WQEs
 * are flushed (WR_FLUSH_ERR) — never silence, because mlx5r_umr_post_send_wait waits without a
 * timeout and a verbs program polls for every signaled WQE.
 * Worker thread only, under the firmware lock (the objects are the command handlers').
 */
final class SendQueues {
    // include/linux/mlx5/qp.h, cq.h, device.h (not in mlx5_ifc.h, so not generated)
    static final int MLX5_WQE_CTRL_CQ_UPDATE = 2 << 2;

    static final int BB = QpCommands.SEND_WQE_BB;
    static final int CTRL = 0;

    private final Firmware fw;
    final CompletionQueues cqs;
    final Loopback loopback;
    private final byte[] wqe = new byte[BB * 16];
    long doorbells;
    long wqes;
    long errors;
    long flushed;
    long rqFlushed;
    long faults;
    long internalErrors;
    String lastError = "";

    SendQueues(Firmware fw, EqTable eqs) {
        this.fw = fw;
        this.cqs = new CompletionQueues(fw.resources, eqs);
        this.loopback = new Loopback(fw.resources, fw.port, cqs);
        this.pageFaults = new PageFaults(eqs);
        this.umr = new Umr(fw, this::fail);
    }

    final Umr umr;

    final PageFaults pageFaults;

    /** A CQ arm doorbell (UAR +0x20: sn/cmd/ci, then cqn), message thread. */
    void arm(int cqn, int ci) {
        cqs.arm(cqn, ci);
    }

    boolean armsPending() {
        return cqs.armsPending();
    }

    /** Applies arm requests: an armed CQ that already holds unpolled CQEs gets its event now (the driver may have missed it). */
    void serviceArms(DmaCommand dma) {
        cqs.serviceArms(dma);
    }

    /** Whether a send waits for its responder to post a receive: the worker then looks again soon without a doorbell. */
    boolean waiting() {
        for (Resources.Qp qp : fw.resources.qps.all().values()) {
            if (qp.rnrWaiting && qp.state == MLX5_QPC_STATE_RTS) {
                return true;
            }
        }
        return false;
    }

    /**
     * A store to a UAR's send doorbell area (or a retry, or a QP moved to ERR): look at every
     * send queue's doorbell record, then flush what the QPs in error hold, including those the
     * pass itself failed.
     */
    void service(DmaCommand dma) {
        doorbells++;
        List<Resources.Qp> qps = new ArrayList<>(fw.resources.qps.all().values());
        for (Resources.Qp qp : qps) {
            // an RTS send queue executes; in the other states the WQEs wait (the counters stay)
            if (qp.hasSq() && qp.state == MLX5_QPC_STATE_RTS) {
                guarded(qp, () -> drain(dma, qp));
            }
        }
        for (Resources.Qp qp : qps) {
            if (qp.state == MLX5_QPC_STATE_ERR && fw.resources.qps.get(qp.qpn) == qp) {
                if (qp.hasSq()) {
                    guarded(qp, () -> drain(dma, qp));
                }
                if (qp.hasRq()) {
                    guarded(qp, () -> flushReceives(dma, qp));
                }
            }
        }
    }

    private interface Step {
        void run() throws DmaFault;
    }

    private void guarded(Resources.Qp qp, Step step) {
        try {
            step.run();
        } catch (DmaFault f) {
            // the doorbell record, the WQE or the CQ is not mapped: nothing can be completed or reported
            faults++;
            lastError = "QP 0x" + Integer.toHexString(qp.qpn) + ": " + f.getMessage();
        } catch (RuntimeException e) {
            // a case this model did not foresee: that QP stops (ERR), the others are still served in this pass
            internalErrors++;
            qp.state = MLX5_QPC_STATE_ERR;
            lastError = "QP 0x" + Integer.toHexString(qp.qpn) + ": internal error " + e;
        }
    }

    private void drain(DmaCommand dma, Resources.Qp qp) throws DmaFault {
        int size = 1 << qp.logSqSize;
        if (qp.pageFaultPending && qp.state == MLX5_QPC_STATE_RTS) {
            return; // the driver is resolving a page fault for the WQE at the head
        }
        int posted = be32(dma, qp.dbrAddr + 4) & 0xffff;
        qp.rnrWaiting = false;
        for (int guard = 0; qp.sqConsumed != posted && guard < size; guard++) {
            int start = qp.sqConsumed;
            fetch(dma, qp, start, 1);
            int opmodIdxOpcode = be32(wqe, CTRL);
            int ds = be32(wqe, CTRL + 4) & 0x3f;
            int nbb = Math.max(1, (ds * 16 + BB - 1) / BB);
            int opcode = opmodIdxOpcode & 0xff;
            int syndrome = 0;
            long byteCount = 0;
            boolean signal = (wqe[CTRL + 11] & MLX5_WQE_CTRL_CQ_UPDATE) != 0;
            if (ds == 0 || nbb > Math.min(size, wqe.length / BB)) {
                syndrome = fail(qp, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "WQE with " + ds + " DS");
                nbb = 1;
            } else if (qp.state != MLX5_QPC_STATE_RTS) {
                syndrome = MLX5_CQE_SYNDROME_WR_FLUSH_ERR; // the QP is in error: taken, not executed
                flushed++;
            } else if (qp.st == MLX5_QPC_ST_REG_UMR || opcode == Umr.MLX5_OPCODE_UMR) {
                if (opcode != Umr.MLX5_OPCODE_UMR || qp.st != MLX5_QPC_ST_REG_UMR) {
                    syndrome = fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR,
                            "opcode 0x" + Integer.toHexString(opcode) + " on a QP of type 0x" + Integer.toHexString(qp.st));
                } else {
                    fetch(dma, qp, start, nbb);
                    syndrome = umr.execute(dma, qp, ds, wqe);
                }
            } else {
                fetch(dma, qp, start, nbb);
                Loopback.Outcome o;
                try {
                    o = loopback.execute(dma, qp, SendWqe.parse(wqe, Loopback.datagram(qp.st)), 1L << fw.caps.current(MLX5_CAP_GENERAL, cmd_hca_cap.log_max_msg));
                } catch (SendWqe.Malformed m) {
                    o = new Loopback.Failed(MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, m.getMessage());
                }
                switch (o) {
                    case Loopback.NotReady n -> {
                        qp.rnrWaiting = true; // taken later, when the responder has posted a receive
                        return;
                    }
                    case Loopback.PageFault pf -> {
                        String why = pageFaults.raise(dma, qp, pf);
                        if (why == null) {
                            return; // the WQE stays at the head until PAGE_FAULT_RESUME
                        }
                        syndrome = fail(qp, pf.syndrome(), why);
                    }
                    case Loopback.Done d -> byteCount = d.byteCount();
                    case Loopback.Failed f -> syndrome = fail(qp, f.syndrome(), f.why());
                }
            }
            wqes++;
            qp.pageFaults = 0;
            qp.pageFaultError = false;
            qp.sqConsumed = (start + nbb) & 0xffff;
            if (syndrome != 0 || signal) {
                complete(dma, qp, start, opcode, syndrome, byteCount);
            }
        }
    }

    /** A QP in error completes every receive the driver posted with a flush error, in order. */
    private void flushReceives(DmaCommand dma, Resources.Qp qp) throws DmaFault {
        int n = ReceiveQueue.outstanding(dma, qp);
        for (int i = 0; i < n && i < (1 << qp.logRqSize); i++) {
            int index = qp.rqConsumed;
            ReceiveQueue.take(qp);
            rqFlushed++;
            cqs.post(dma, qp.cqnRcv, Cqe.responderError(qp, index, MLX5_CQE_SYNDROME_WR_FLUSH_ERR));
        }
    }

    int fail(Resources.Qp qp, int syndrome, String why) {
        errors++;
        lastError = "QP 0x" + Integer.toHexString(qp.qpn) + ": " + why;
        qp.state = MLX5_QPC_STATE_ERR; // hardware moves a QP whose WQE failed to error; the driver resets it (umr recover)
        return syndrome;
    }

    /** Copies {@code nbb} basic blocks from SQ index {@code start} into {@link #wqe}, wrapping at the end of the ring. */
    private void fetch(DmaCommand dma, Resources.Qp qp, int start, int nbb) throws DmaFault {
        int size = 1 << qp.logSqSize;
        for (int i = 0; i < nbb; i++) {
            long off = qp.sqOffset + (long) ((start + i) & (size - 1)) * BB;
            dma.read(qp.pas[(int) (off / qp.pageSize)] + off % qp.pageSize, wqe, i * BB, BB);
        }
    }

    /** The requester CQE for the WQE at SQ index {@code wqeCounter} (the driver finds the work request by it). */
    private void complete(DmaCommand dma, Resources.Qp qp, int wqeCounter, int opcode, int syndrome, long byteCount) throws DmaFault {
        cqs.post(dma, qp.cqnSnd, syndrome != 0 ? Cqe.requesterError(qp, opcode, wqeCounter, syndrome)
                : Cqe.requester(qp, opcode, wqeCounter, byteCount));
    }

    Map<String, Object> inspect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sqDoorbells", doorbells);
        m.put("wqes", wqes);
        m.put("wqeErrors", errors);
        m.put("wqesFlushed", flushed);
        m.put("rqWqesFlushed", rqFlushed);
        m.put("cqes", cqs.cqes);
        m.put("errorCqes", cqs.errorCqes);
        m.put("compEqes", cqs.compEqes);
        m.put("cqOverruns", cqs.overruns);
        m.put("sends", loopback.sends);
        m.put("rdmaWrites", loopback.writes);
        m.put("rdmaReads", loopback.reads);
        m.put("bytesMoved", loopback.bytes);
        m.put("rnrWaits", loopback.rnrWaits);
        m.put("responderErrors", loopback.responderErrors);
        m.put("lastResponderError", loopback.lastResponderError);
        m.put("pageFaults", pageFaults.raised);
        m.put("pageFaultsResumed", pageFaults.resumed);
        m.put("pageFaultsFailed", pageFaults.failed);
        m.put("sqFaults", faults + umr.faults);
        m.put("sqInternalErrors", internalErrors);
        m.put("lastWqeError", lastError);
        m.putAll(umr.inspect());
        return m;
    }

    void reset() {
        cqs.reset();
        umr.reset();
    }

    static int be32(DmaCommand dma, long iova) throws DmaFault {
        byte[] b = new byte[4];
        dma.read(iova, b, 0, 4);
        return be32(b, 0);
    }

    static int be16(byte[] b, int o) {
        return (b[o] & 0xff) << 8 | (b[o + 1] & 0xff);
    }

    static int be32(byte[] b, int o) {
        return (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff);
    }

    static long be64(byte[] b, int o) {
        return (be32(b, o) & 0xffffffffL) << 32 | (be32(b, o + 4) & 0xffffffffL);
    }

    static void putBe32(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 24);
        b[o + 1] = (byte) (v >>> 16);
        b[o + 2] = (byte) (v >>> 8);
        b[o + 3] = (byte) v;
    }
}
