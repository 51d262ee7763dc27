package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.mkc;

import java.util.ArrayList;
import java.util.List;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * Memory key translation: what an lkey or rkey plus a virtual address means in guest bus
 * addresses (IOVAs). A key is mkey_index << 8 | mkey_7_0; both halves, the PD, the access rights
 * and the key's range must match before anything moves. An MTT key maps page i of its range
 * (counted from the page holding start_addr) to entry i: an IOVA with the read/write flags
 * mlx5_ib ORs into the low bits (MLX5_IB_MTT_READ/WRITE) — an ODP key loads entries only for
 * the pages the driver has faulted in or prefetched, and one without the write flag is present
 * for reading only. A PA key (the kernel's DMA MR) maps the address to itself.
 */
final class MemoryKeys {
    private MemoryKeys() {
    }

    /** Access a translation needs; local read is always allowed. */
    static final int LOCAL_WRITE = 1;
    static final int REMOTE_READ = 2;
    static final int REMOTE_WRITE = 4;
    static final int ATOMIC = 8;
    /** MTT entry flags (mlx5_ib.h MLX5_IB_MTT_READ / MLX5_IB_MTT_WRITE). */
    static final long MTT_READ = 1;
    static final long MTT_WRITE = 2;

    enum Reason {
        /** No such key, a stale variant, or a free (not yet enabled / revoked) key. */
        BAD_KEY,
        /** The key belongs to another protection domain than the QP. */
        PD_MISMATCH,
        /** The key does not grant the access. */
        ACCESS,
        /** The access reaches outside the key's range. */
        RANGE,
        /** An on-demand page the driver has not mapped (for this kind of access). */
        NOT_PRESENT,
        /** An access mode the data path does not implement (KLM, KSM). */
        UNSUPPORTED
    }

    /** A piece of guest bus address space. */
    record Range(long iova, long length) {
    }

    sealed interface Translation permits Mapped, Denied {
    }

    /** Where the bytes are, in order; adjacent pieces are merged. */
    record Mapped(List<Range> ranges) implements Translation {
    }

    record Denied(Reason reason, String detail) implements Translation {
    }

    /** The access bits of a memory key context (mkc) at byte {@code base}. */
    static int access(byte[] b, int base) {
        return (mkc.lw.get(b, base) != 0 ? LOCAL_WRITE : 0) | (mkc.rr.get(b, base) != 0 ? REMOTE_READ : 0)
                | (mkc.rw.get(b, base) != 0 ? REMOTE_WRITE : 0) | (mkc.a.get(b, base) != 0 ? ATOMIC : 0);
    }

    /** Translates {@code length} bytes at {@code va} through {@code key}, used by a QP of {@code pd} for {@code need}. */
    static Translation translate(Resources r, int pd, int key, long va, long length, int need) {
        Resources.Mkey m = r.mkeys.get(key >>> 8);
        if (m == null || m.variant != (key & 0xff) || m.free) {
            return new Denied(Reason.BAD_KEY, "key 0x" + Integer.toHexString(key) + (m == null ? " does not exist" : m.free ? " is free" : " has another variant"));
        }
        if (m.pd != pd) {
            return new Denied(Reason.PD_MISMATCH, "key 0x" + Integer.toHexString(key) + " is in pd " + m.pd + ", the QP in pd " + pd);
        }
        if ((need & ~m.access) != 0) {
            return new Denied(Reason.ACCESS, "key 0x" + Integer.toHexString(key) + " grants 0x" + Integer.toHexString(m.access)
                    + ", needs 0x" + Integer.toHexString(need));
        }
        if (!m.length64 && (Long.compareUnsigned(va, m.start) < 0 || Long.compareUnsigned(length, m.length) > 0
                || Long.compareUnsigned(va - m.start, m.length - length) > 0)) {
            return new Denied(Reason.RANGE, "0x" + Long.toHexString(va) + "+" + length + " outside key 0x" + Integer.toHexString(key)
                    + " [0x" + Long.toHexString(m.start) + ", +0x" + Long.toHexString(m.length) + ")");
        }
        List<Range> out = new ArrayList<>();
        if (length == 0) {
            return new Mapped(out);
        }
        switch (m.accessMode) {
            case MLX5_MKC_ACCESS_MODE_PA -> add(out, va, length);
            case MLX5_MKC_ACCESS_MODE_MTT -> {
                int shift = m.logPageSize;
                long pageSize = 1L << shift;
                boolean write = (need & (LOCAL_WRITE | REMOTE_WRITE | ATOMIC)) != 0;
                long first = m.start >>> shift;
                long at = va;
                long left = length;
                while (left > 0) {
                    long index = (at >>> shift) - first;
                    Long e = m.mtt.get(index);
                    long flags = e == null ? 0 : e & (MTT_READ | MTT_WRITE);
                    // entries without flags come from a key registered pinned (no ODP): present for all access
                    if (e == null || e == 0 || flags != 0 && write && (flags & MTT_WRITE) == 0) {
                        return new Denied(Reason.NOT_PRESENT, "key 0x" + Integer.toHexString(key) + " page " + index
                                + " (va 0x" + Long.toHexString(at) + ") not present" + (e == null ? "" : " for writing"));
                    }
                    long inPage = at & (pageSize - 1);
                    long n = Math.min(left, pageSize - inPage);
                    add(out, (e & ~(pageSize - 1)) + inPage, n);
                    at += n;
                    left -= n;
                }
            }
            default -> {
                return new Denied(Reason.UNSUPPORTED, "key 0x" + Integer.toHexString(key) + " access mode " + m.accessMode);
            }
        }
        return new Mapped(out);
    }

    private static void add(List<Range> out, long iova, long length) {
        if (!out.isEmpty()) {
            Range last = out.getLast();
            if (last.iova() + last.length() == iova) {
                out.set(out.size() - 1, new Range(last.iova(), last.length() + length));
                return;
            }
        }
        out.add(new Range(iova, length));
    }
}
