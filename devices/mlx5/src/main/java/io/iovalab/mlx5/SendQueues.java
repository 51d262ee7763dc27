package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.mlx5.ifc.Mlx5Ifc.cmd_hca_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mkc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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
    static final int MLX5_OPCODE_UMR = 0x25;
    static final int MLX5_WQE_CTRL_CQ_UPDATE = 2 << 2;
    static final int MLX5_UMR_TRANSLATION_OFFSET_EN = 1 << 4;
    static final int MLX5_UMR_CHECK_NOT_FREE = 1 << 5;
    static final int MLX5_UMR_CHECK_FREE = 2 << 5;
    static final int MLX5_UMR_INLINE = 1 << 7;
    static final long MLX5_MKEY_MASK_LEN = 1L << 0;
    static final long MLX5_MKEY_MASK_PAGE_SIZE = 1L << 1;
    static final long MLX5_MKEY_MASK_START_ADDR = 1L << 6;
    static final long MLX5_MKEY_MASK_PD = 1L << 7;
    static final long MLX5_MKEY_MASK_KEY = 1L << 13;
    static final long MLX5_MKEY_MASK_QPN = 1L << 14;
    static final long MLX5_MKEY_MASK_LW = 1L << 18;
    static final long MLX5_MKEY_MASK_RR = 1L << 19;
    static final long MLX5_MKEY_MASK_RW = 1L << 20;
    static final long MLX5_MKEY_MASK_A = 1L << 21;
    static final long MLX5_MKEY_MASK_ACCESS = 0xfL << 17 | 1L << 21; // LR LW RR RW A (local read is always allowed)
    static final long MLX5_MKEY_MASK_FREE = 1L << 29;
    /** The mask bits this model implements; a WQE with any other bit is refused (error CQE), not half-done. */
    static final long KNOWN_MASK = MLX5_MKEY_MASK_LEN | MLX5_MKEY_MASK_PAGE_SIZE | MLX5_MKEY_MASK_START_ADDR
            | MLX5_MKEY_MASK_PD | MLX5_MKEY_MASK_KEY | MLX5_MKEY_MASK_QPN | MLX5_MKEY_MASK_ACCESS | MLX5_MKEY_MASK_FREE;

    static final int BB = QpCommands.SEND_WQE_BB;
    static final int CTRL = 0;
    static final int UMR_CTRL = 16;
    static final int MKEY_SEG = 64;
    static final int DATA_SEG = 128;
    /** ctrl (1) + umr ctrl (3) + mkey (4) DS; a data segment makes it 9. */
    static final int UMR_DS_MIN = 8;
    /** Device-side log of XLT loads for inspect(): the last entries written to each key. */
    static final int XLT_LOG = 64;

    private final Firmware fw;
    final CompletionQueues cqs;
    final Loopback loopback;
    private final byte[] wqe = new byte[BB * 16];
    long doorbells;
    long wqes;
    long umrs;
    long errors;
    long flushed;
    long rqFlushed;
    long xltEntries;
    long zapped;
    long faults;
    String lastError = "";
    final ArrayDeque<String> xltLog = new ArrayDeque<>();

    SendQueues(Firmware fw, EqTable eqs) {
        this.fw = fw;
        this.cqs = new CompletionQueues(fw.resources, eqs);
        this.loopback = new Loopback(fw.resources, fw.port, cqs);
        this.pageFaults = new PageFaults(eqs);
    }

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
            } else if (qp.st == MLX5_QPC_ST_REG_UMR || opcode == MLX5_OPCODE_UMR) {
                if (opcode != MLX5_OPCODE_UMR || qp.st != MLX5_QPC_ST_REG_UMR) {
                    syndrome = fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR,
                            "opcode 0x" + Integer.toHexString(opcode) + " on a QP of type 0x" + Integer.toHexString(qp.st));
                } else {
                    fetch(dma, qp, start, nbb);
                    syndrome = umr(dma, qp, ds);
                }
            } else {
                fetch(dma, qp, start, nbb);
                Loopback.Outcome o;
                try {
                    boolean datagram = qp.st != MLX5_QPC_ST_RC && qp.st != MLX5_QPC_ST_UC;
                    o = loopback.execute(dma, qp, SendWqe.parse(wqe, datagram), 1L << fw.caps.current(MLX5_CAP_GENERAL, cmd_hca_cap.log_max_msg));
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

    private int fail(Resources.Qp qp, int syndrome, String why) {
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

    /** Executes the UMR WQE in {@link #wqe}; returns 0 or a CQE syndrome. */
    private int umr(DmaCommand dma, Resources.Qp qp, int ds) {
        umrs++;
        int mkey = be32(wqe, CTRL + 12);
        int flags = wqe[UMR_CTRL] & 0xff;
        int xltOcto = be16(wqe, UMR_CTRL + 4);
        long octoOffset = (flags & MLX5_UMR_TRANSLATION_OFFSET_EN) != 0
                ? (be32(wqe, UMR_CTRL + 16) & 0xffffffffL) << 16 | be16(wqe, UMR_CTRL + 6) : 0;
        long mask = be64(wqe, UMR_CTRL + 8);
        Resources.Mkey m = fw.resources.mkeys.get(mkey >>> 8);
        if (ds < UMR_DS_MIN) {
            return fail(qp, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "UMR with " + ds + " DS");
        }
        if (m == null) {
            return fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR on mkey 0x" + Integer.toHexString(mkey) + " that does not exist");
        }
        if ((mask & ~KNOWN_MASK) != 0) {
            return fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "UMR mkey_mask bits 0x" + Long.toHexString(mask & ~KNOWN_MASK));
        }
        int check = flags & (MLX5_UMR_CHECK_FREE | MLX5_UMR_CHECK_NOT_FREE);
        if (check == MLX5_UMR_CHECK_FREE && m.free || check == MLX5_UMR_CHECK_NOT_FREE && !m.free) {
            return fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR free check 0x" + Integer.toHexString(check)
                    + " on mkey 0x" + Integer.toHexString(mkey) + " free=" + m.free);
        }
        if ((mask & MLX5_MKEY_MASK_PD) != 0 && fw.resources.pds.get((int) mkc.pd.get(wqe, MKEY_SEG)) == null) {
            return fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR to pd " + mkc.pd.get(wqe, MKEY_SEG) + " that does not exist");
        }
        // the translation first: a fault leaves the key as it was
        if ((flags & MLX5_UMR_INLINE) == 0 && xltOcto > 0) {
            if (ds < UMR_DS_MIN + 1) {
                return fail(qp, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "UMR XLT without a data segment");
            }
            int byteCount = be32(wqe, DATA_SEG);
            int lkey = be32(wqe, DATA_SEG + 4);
            long addr = be64(wqe, DATA_SEG + 8);
            int bytes = xltOcto * 16;
            // the XLT is dma_map_single'd and named by the UMR PD's local_dma_lkey: with no reserved
            // lkey advertised, ib_alloc_pd makes that a PA-mode key (get_dma_mr), so the address is
            // a bus address (IOVA) either way; any other key is refused, not translated
            Resources.Mkey via = fw.resources.mkeys.get(lkey >>> 8);
            boolean busAddress = lkey == 0 || via != null && via.accessMode == MLX5_MKC_ACCESS_MODE_PA && !via.free
                    && via.variant == (lkey & 0xff);
            if (!busAddress || Integer.toUnsignedLong(byteCount) < bytes) {
                return fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR XLT lkey 0x" + Integer.toHexString(lkey)
                        + " byte_count " + Integer.toUnsignedString(byteCount) + " for " + bytes + " bytes");
            }
            if (m.accessMode != MLX5_MKC_ACCESS_MODE_MTT) {
                return fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "UMR XLT for access mode " + m.accessMode);
            }
            byte[] xlt = new byte[bytes];
            try {
                dma.read(addr, xlt, 0, bytes);
            } catch (DmaFault f) {
                faults++;
                return fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR XLT read at 0x" + Long.toHexString(addr) + ": " + f.getMessage());
            }
            long first = octoOffset * 2; // two 8-byte MTT entries per octoword
            for (int i = 0; i < bytes / 8; i++) {
                long e = be64(xlt, i * 8);
                if (e == 0) {
                    if (m.mtt.remove(first + i) != null) {
                        zapped++;
                    }
                } else {
                    m.mtt.put(first + i, e);
                    xltEntries++;
                }
            }
            log("mkey 0x" + Integer.toHexString(mkey) + " entries " + first + ".." + (first + bytes / 8 - 1)
                    + " present " + m.mtt.subMap(first, first + bytes / 8).size());
        }
        if ((mask & MLX5_MKEY_MASK_LEN) != 0) {
            m.length = mkc.len.get(wqe, MKEY_SEG);
            m.length64 = mkc.length64.get(wqe, MKEY_SEG) != 0;
        }
        if ((mask & MLX5_MKEY_MASK_PAGE_SIZE) != 0) {
            m.logPageSize = (int) mkc.log_page_size.get(wqe, MKEY_SEG);
        }
        if ((mask & MLX5_MKEY_MASK_START_ADDR) != 0) {
            m.start = mkc.start_addr.get(wqe, MKEY_SEG);
        }
        if ((mask & MLX5_MKEY_MASK_PD) != 0) {
            m.pd = (int) mkc.pd.get(wqe, MKEY_SEG);
        }
        if ((mask & MLX5_MKEY_MASK_ACCESS) != 0) {
            int given = MemoryKeys.access(wqe, MKEY_SEG);
            int changed = ((mask & MLX5_MKEY_MASK_LW) != 0 ? MemoryKeys.LOCAL_WRITE : 0)
                    | ((mask & MLX5_MKEY_MASK_RR) != 0 ? MemoryKeys.REMOTE_READ : 0)
                    | ((mask & MLX5_MKEY_MASK_RW) != 0 ? MemoryKeys.REMOTE_WRITE : 0)
                    | ((mask & MLX5_MKEY_MASK_A) != 0 ? MemoryKeys.ATOMIC : 0);
            m.access = m.access & ~changed | given & changed;
        }
        if ((mask & MLX5_MKEY_MASK_KEY) != 0) {
            m.variant = (int) mkc.mkey_7_0.get(wqe, MKEY_SEG);
        }
        if ((mask & MLX5_MKEY_MASK_FREE) != 0) {
            boolean wasFree = m.free;
            m.free = mkc.free.get(wqe, MKEY_SEG) != 0;
            if (m.free && !wasFree) {
                // revoke: the key's pages are the driver's again, so the device forgets them
                zapped += m.mtt.size();
                m.mtt.clear();
                log("mkey 0x" + Integer.toHexString(mkey) + " revoked");
            } else if (!m.free && wasFree) {
                log("mkey 0x" + Integer.toHexString(mkey) + " enabled, " + m.mtt.size() + " entries, start 0x"
                        + Long.toHexString(m.start) + " len 0x" + Long.toHexString(m.length));
            }
        }
        return 0;
    }

    private void log(String s) {
        if (xltLog.size() >= XLT_LOG) {
            xltLog.removeFirst();
        }
        xltLog.addLast(s);
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
        m.put("umrWqes", umrs);
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
        m.put("xltEntriesLoaded", xltEntries);
        m.put("xltEntriesZapped", zapped);
        m.put("sqFaults", faults);
        m.put("lastWqeError", lastError);
        m.put("xltLog", List.copyOf(xltLog));
        List<Map<String, Object>> keys = new ArrayList<>();
        for (Resources.Mkey k : fw.resources.mkeys.all().values()) {
            if (k.mtt.isEmpty()) {
                continue;
            }
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("mkey", (long) (k.index << 8 | k.variant));
            e.put("free", k.free);
            e.put("start", k.start);
            e.put("length", k.length);
            e.put("logPageSize", (long) k.logPageSize);
            // entry index -> IOVA (the read/write flags in the low bits stripped)
            Map<Long, Long> mtt = new LinkedHashMap<>();
            k.mtt.forEach((i, v) -> mtt.put(i, v & ~0xfffL));
            e.put("mtt", mtt);
            e.put("mttEntries", (long) mtt.size());
            e.put("mttIovaRuns", iovaRuns(mtt, 1L << k.logPageSize));
            keys.add(e);
        }
        m.put("mttKeys", keys);
        return m;
    }

    /**
     * Distinct contiguous IOVA ranges among an mkey's loaded MTT entries (index → IOVA, ascending
     * index): a range continues while the next index is the next entry and its IOVA is the
     * previous one plus a page. Only ascending counts, because that is what lets the device treat
     * the MR as one IOVA range; a kernel that maps each page on its own leaves one range per page.
     */
    static long iovaRuns(Map<Long, Long> mtt, long pageSize) {
        long runs = 0;
        long prevIndex = Long.MIN_VALUE;
        long prevIova = 0;
        for (var e : new TreeMap<>(mtt).entrySet()) {
            if (prevIndex == Long.MIN_VALUE || e.getKey() != prevIndex + 1 || e.getValue() != prevIova + pageSize) {
                runs++;
            }
            prevIndex = e.getKey();
            prevIova = e.getValue();
        }
        return runs;
    }

    void reset() {
        cqs.reset();
        xltLog.clear();
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
