package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mkc;

import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The send-queue engine, for the one work request the device executes: UMR (user memory
 * registration) on mlx5_ib's REG_UMR QP, which is how the driver loads and zaps an mkey's
 * translation table (the MTT entries are the IOVAs hmm_dma_map_pfn linked) and enables or
 * revokes the key. The driver writes WQEs into the QP buffer, the new send counter into the
 * doorbell record (dword 1) and then stores to the UAR's doorbell area; the store only tells us
 * to look, the doorbell record says how far. Every WQE taken completes with a CQE if the driver
 * asked for one (fm_ce_se CQ_UPDATE; the UMR QP signals all), and every WQE the device cannot
 * execute completes with an error CQE and moves the QP to ERR, after which further WQEs are
 * flushed — never silence, because mlx5r_umr_post_send_wait waits without a timeout.
 * Worker thread only, under the firmware lock (the objects are the command handlers').
 */
final class SendQueues {
    // include/linux/mlx5/qp.h, cq.h, device.h (not in mlx5_ifc.h, so not generated)
    static final int MLX5_OPCODE_UMR = 0x25;
    static final int MLX5_WQE_CTRL_CQ_UPDATE = 2 << 2;
    static final int MLX5_CQE_REQ = 0;
    static final int MLX5_CQE_REQ_ERR = 0xd;
    static final int MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR = 0x01;
    static final int MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR = 0x02;
    static final int MLX5_CQE_SYNDROME_LOCAL_PROT_ERR = 0x04;
    static final int MLX5_CQE_SYNDROME_WR_FLUSH_ERR = 0x05;
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
    static final long MLX5_MKEY_MASK_ACCESS = 0xfL << 17 | 1L << 21; // LR LW RR RW A: kept nowhere, nothing reads through keys
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
    static final int CQE_SIZE = 64;
    static final int CQE_OP_OWN = 0x3f;
    /** Device-side log of XLT loads for inspect(): the last entries written to each key. */
    static final int XLT_LOG = 64;

    private final Firmware fw;
    private final EqTable eqs;
    /** Arm doorbells (cqn, consumer index) recorded by the message thread, applied by the worker in order. */
    private final ConcurrentLinkedQueue<long[]> arms = new ConcurrentLinkedQueue<>();
    private final byte[] wqe = new byte[BB * 16];
    long doorbells;
    long wqes;
    long umrs;
    long errors;
    long flushed;
    long cqes;
    long compEqes;
    long cqOverruns;
    long xltEntries;
    long zapped;
    long faults;
    String lastError = "";
    final ArrayDeque<String> xltLog = new ArrayDeque<>();

    SendQueues(Firmware fw, EqTable eqs) {
        this.fw = fw;
        this.eqs = eqs;
    }

    /** A CQ arm doorbell (UAR +0x20: sn/cmd/ci, then cqn), message thread. */
    void arm(int cqn, int ci) {
        arms.add(new long[] {cqn, ci});
    }

    boolean armsPending() {
        return !arms.isEmpty();
    }

    /** Applies arm requests: an armed CQ that already holds unpolled CQEs gets its event now (the driver may have missed it). */
    void serviceArms(DmaCommand dma) {
        long[] a;
        while ((a = arms.poll()) != null) {
            Resources.Cq cq = fw.resources.cqs.get((int) a[0]);
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

    /** A store to a UAR's send doorbell area: look at every send queue's doorbell record. */
    void service(DmaCommand dma) {
        doorbells++;
        for (Resources.Qp qp : new ArrayList<>(fw.resources.qps.all().values())) {
            // an RTS send queue executes, an ERR one flushes; in the other states the WQEs wait (the counters stay)
            if (qp.hasSq() && (qp.state == MLX5_QPC_STATE_RTS || qp.state == MLX5_QPC_STATE_ERR)) {
                try {
                    drain(dma, qp);
                } catch (DmaFault f) {
                    // the doorbell record or the WQE is not mapped: nothing can be completed or reported
                    faults++;
                    lastError = "QP 0x" + Integer.toHexString(qp.qpn) + ": " + f.getMessage();
                }
            }
        }
    }

    private void drain(DmaCommand dma, Resources.Qp qp) throws DmaFault {
        int size = 1 << qp.logSqSize;
        int posted = be32(dma, qp.dbrAddr + 4) & 0xffff;
        for (int guard = 0; qp.sqConsumed != posted && guard < size; guard++) {
            int start = qp.sqConsumed;
            fetch(dma, qp, start, 1);
            int opmodIdxOpcode = be32(wqe, CTRL);
            int ds = be32(wqe, CTRL + 4) & 0x3f;
            int nbb = Math.max(1, (ds * 16 + BB - 1) / BB);
            int opcode = opmodIdxOpcode & 0xff;
            int syndrome;
            boolean signal = (wqe[CTRL + 11] & MLX5_WQE_CTRL_CQ_UPDATE) != 0;
            wqes++;
            if (ds == 0 || nbb > Math.min(size, wqe.length / BB)) {
                syndrome = fail(qp, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "WQE with " + ds + " DS");
                nbb = 1;
            } else if (qp.state != MLX5_QPC_STATE_RTS) {
                syndrome = MLX5_CQE_SYNDROME_WR_FLUSH_ERR; // the QP is in error: taken, not executed
                flushed++;
            } else if (opcode != MLX5_OPCODE_UMR || qp.st != MLX5_QPC_ST_REG_UMR) {
                syndrome = fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR,
                        "opcode 0x" + Integer.toHexString(opcode) + " on a QP of type 0x" + Integer.toHexString(qp.st));
            } else {
                fetch(dma, qp, start, nbb);
                syndrome = umr(dma, qp, ds);
            }
            qp.sqConsumed = (start + nbb) & 0xffff;
            if (syndrome != 0 || signal) {
                complete(dma, qp, start, opcode, syndrome);
            }
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

    /**
     * Writes the CQE for the WQE at SQ index {@code wqeCounter} (the driver finds the work
     * request by it), owner bit last, then one completion event if the CQ is armed.
     */
    private void complete(DmaCommand dma, Resources.Qp qp, int wqeCounter, int opcode, int syndrome) throws DmaFault {
        Resources.Cq cq = fw.resources.cqs.get(qp.cqnSnd);
        if (cq == null) {
            return;
        }
        int size = 1 << cq.logSize;
        int ci = be32(dma, cq.dbrAddr) & 0xffffff;
        if (((cq.producer - ci) & 0xffffff) >= size) {
            cqOverruns++; // the driver sized the CQ for its send queue; hardware would raise a CQ error
            return;
        }
        byte[] cqe = new byte[CQE_SIZE];
        if (syndrome != 0) {
            cqe[0x37] = (byte) syndrome;                           // mlx5_err_cqe.syndrome
            putBe32(cqe, 0x38, opcode << 24 | qp.qpn);              // s_wqe_opcode_qpn
        } else {
            putBe32(cqe, 0x38, opcode << 24 | qp.qpn);              // sop_drop_qpn: the WQE opcode and the QP
        }
        cqe[0x3c] = (byte) (wqeCounter >>> 8);
        cqe[0x3d] = (byte) wqeCounter;
        long index = cq.producer & (size - 1);
        long off = index * cq.cqeSize + (cq.cqeSize - CQE_SIZE); // a 128-byte CQE carries the 64-byte one in its second half
        long iova = cq.pas[(int) (off / cq.pageSize)] + off % cq.pageSize;
        byte owner = (byte) ((cq.producer >>> cq.logSize) & 1);
        dma.write(iova, cqe, 0, CQE_OP_OWN);
        VarHandle.storeStoreFence(); // the entry before its owner byte
        dma.writeByte(iova + CQE_OP_OWN, (byte) ((syndrome != 0 ? MLX5_CQE_REQ_ERR : MLX5_CQE_REQ) << 4 | owner));
        cq.producer++;
        cqes++;
        if (cq.armed) {
            cq.armed = false;
            event(dma, cq);
        }
    }

    /** A COMP EQE naming the CQ on the CQ's EQ; the EQ's own arm decides the interrupt. */
    private void event(DmaCommand dma, Resources.Cq cq) {
        EventQueue eq = eqs.get(cq.eqn);
        if (eq == null) {
            return;
        }
        byte[] data = new byte[EventQueue.EQE_DATA_SIZE];
        putBe32(data, 0x18, cq.cqn & 0xffffff); // mlx5_eqe_comp.cqn
        eqs.post(dma, eq, MLX5_EVENT_TYPE_COMP, 0, data);
        compEqes++;
    }

    Map<String, Object> inspect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("sqDoorbells", doorbells);
        m.put("wqes", wqes);
        m.put("umrWqes", umrs);
        m.put("wqeErrors", errors);
        m.put("wqesFlushed", flushed);
        m.put("cqes", cqes);
        m.put("compEqes", compEqes);
        m.put("cqOverruns", cqOverruns);
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
        arms.clear();
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
