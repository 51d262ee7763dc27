package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mkc;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import static io.iovalab.mlx5.Cqe.*;
import static io.iovalab.mlx5.SendQueues.be16;
import static io.iovalab.mlx5.SendQueues.be32;
import static io.iovalab.mlx5.SendQueues.be64;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * UMR (user memory registration) WQEs on mlx5_ib's REG_UMR QP: how the driver loads and zaps an
 * mkey's translation table (the MTT entries are the IOVAs hmm_dma_map_pfn linked), changes its
 * range, PD and access rights, and enables or revokes the key. The translation is applied
 * first, so a WQE that faults leaves the key as it was. Called by {@link SendQueues} for the
 * WQE at the head of the UMR QP; worker thread only, under the firmware lock.
 */
final class Umr {
    /** How a refused WQE fails its QP (counted, ERR, the syndrome returned for the CQE). */
    interface Fail {
        int fail(Resources.Qp qp, int syndrome, String why);
    }

    // include/linux/mlx5/qp.h (not in mlx5_ifc.h, so not generated)
    static final int MLX5_OPCODE_UMR = 0x25;
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

    static final int CTRL = 0;
    static final int UMR_CTRL = 16;
    static final int MKEY_SEG = 64;
    static final int DATA_SEG = 128;
    /** ctrl (1) + umr ctrl (3) + mkey (4) DS; a data segment makes it 9. */
    static final int UMR_DS_MIN = 8;
    /** Device-side log of XLT loads for inspect(): the last entries written to each key. */
    static final int XLT_LOG = 64;

    private final Firmware fw;
    private final Fail fail;
    long umrs;
    long xltEntries;
    long zapped;
    long faults;
    final ArrayDeque<String> xltLog = new ArrayDeque<>();

    Umr(Firmware fw, Fail fail) {
        this.fw = fw;
        this.fail = fail;
    }

    /** Executes the UMR WQE in {@code wqe}; returns 0 or a CQE syndrome (the QP already failed through {@link Fail}). */
    int execute(DmaCommand dma, Resources.Qp qp, int ds, byte[] wqe) {
        umrs++;
        int mkey = be32(wqe, CTRL + 12);
        int flags = wqe[UMR_CTRL] & 0xff;
        int xltOcto = be16(wqe, UMR_CTRL + 4);
        long octoOffset = (flags & MLX5_UMR_TRANSLATION_OFFSET_EN) != 0
                ? (be32(wqe, UMR_CTRL + 16) & 0xffffffffL) << 16 | be16(wqe, UMR_CTRL + 6) : 0;
        long mask = be64(wqe, UMR_CTRL + 8);
        Resources.Mkey m = fw.resources.mkeys.get(mkey >>> 8);
        if (ds < UMR_DS_MIN) {
            return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "UMR with " + ds + " DS");
        }
        if (m == null) {
            return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR on mkey 0x" + Integer.toHexString(mkey) + " that does not exist");
        }
        if ((mask & ~KNOWN_MASK) != 0) {
            return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "UMR mkey_mask bits 0x" + Long.toHexString(mask & ~KNOWN_MASK));
        }
        int check = flags & (MLX5_UMR_CHECK_FREE | MLX5_UMR_CHECK_NOT_FREE);
        if (check == MLX5_UMR_CHECK_FREE && m.free || check == MLX5_UMR_CHECK_NOT_FREE && !m.free) {
            return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR free check 0x" + Integer.toHexString(check)
                    + " on mkey 0x" + Integer.toHexString(mkey) + " free=" + m.free);
        }
        if ((mask & MLX5_MKEY_MASK_PD) != 0 && fw.resources.pds.get((int) mkc.pd.get(wqe, MKEY_SEG)) == null) {
            return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR to pd " + mkc.pd.get(wqe, MKEY_SEG) + " that does not exist");
        }
        // the translation first: a fault leaves the key as it was
        if ((flags & MLX5_UMR_INLINE) == 0 && xltOcto > 0) {
            if (ds < UMR_DS_MIN + 1) {
                return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "UMR XLT without a data segment");
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
                return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR XLT lkey 0x" + Integer.toHexString(lkey)
                        + " byte_count " + Integer.toUnsignedString(byteCount) + " for " + bytes + " bytes");
            }
            if (m.accessMode != MLX5_MKC_ACCESS_MODE_MTT) {
                return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "UMR XLT for access mode " + m.accessMode);
            }
            byte[] xlt = new byte[bytes];
            try {
                dma.read(addr, xlt, 0, bytes);
            } catch (DmaFault f) {
                faults++;
                return fail.fail(qp, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "UMR XLT read at 0x" + Long.toHexString(addr) + ": " + f.getMessage());
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

    /** Counters, the XLT log and each key's loaded MTT (for inspect, the compare report and the guest tests). */
    Map<String, Object> inspect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("umrWqes", umrs);
        m.put("xltEntriesLoaded", xltEntries);
        m.put("xltEntriesZapped", zapped);
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
        xltLog.clear();
    }
}
