package io.iovalab.mlx5;

import java.util.ArrayList;
import java.util.List;

/**
 * A data-path send WQE (include/linux/mlx5/qp.h), as the device reads it from the SQ: the control
 * segment (mlx5_wqe_ctrl_seg: opmod_idx_opcode, qpn_ds, fm_ce_se, imm), for RDMA operations the
 * remote address segment (mlx5_wqe_raddr_seg), then the gather list: data segments
 * (mlx5_wqe_data_seg: byte_count, lkey, addr) or inline data (mlx5_wqe_inline_seg, byte_count
 * with MLX5_INLINE_SEG set, the bytes padded to 16). UD and special QPs carry a datagram
 * segment (mlx5_wqe_datagram_seg, 48 bytes) in front of the gather list.
 */
record SendWqe(int index, int opcode, int ds, boolean signaled, int imm, long raddr, int rkey, List<Gather> gather) {

    // include/linux/mlx5/qp.h
    static final int MLX5_OPCODE_NOP = 0x00;
    static final int MLX5_OPCODE_RDMA_WRITE = 0x08;
    static final int MLX5_OPCODE_RDMA_WRITE_IMM = 0x09;
    static final int MLX5_OPCODE_SEND = 0x0a;
    static final int MLX5_OPCODE_SEND_IMM = 0x0b;
    static final int MLX5_OPCODE_RDMA_READ = 0x10;
    static final int MLX5_OPCODE_ATOMIC_CS = 0x11;
    static final int MLX5_OPCODE_ATOMIC_FA = 0x12;
    static final int MLX5_INLINE_SEG = 0x80000000;
    static final int MLX5_WQE_CTRL_CQ_UPDATE = 2 << 2;
    static final int CTRL_SIZE = 16;
    static final int RADDR_SIZE = 16;
    static final int DATAGRAM_SIZE = 48;
    static final int DATA_SEG_SIZE = 16;

    /** One piece of the message: guest memory through a key, or bytes carried in the WQE. */
    sealed interface Gather permits Sge, Inline {
        long length();
    }

    record Sge(int lkey, long addr, long length) implements Gather {
    }

    record Inline(byte[] data) implements Gather {
        @Override
        public long length() {
            return data.length;
        }
    }

    /** Why a WQE could not be read: its syndrome is a local length error. */
    static final class Malformed extends Exception {
        Malformed(String why) {
            super(why, null, false, false);
        }
    }

    boolean hasRaddr() {
        return hasRaddr(opcode);
    }

    static boolean hasRaddr(int opcode) {
        return opcode == MLX5_OPCODE_RDMA_WRITE || opcode == MLX5_OPCODE_RDMA_WRITE_IMM || opcode == MLX5_OPCODE_RDMA_READ
                || opcode == MLX5_OPCODE_ATOMIC_CS || opcode == MLX5_OPCODE_ATOMIC_FA;
    }

    boolean hasImm() {
        return opcode == MLX5_OPCODE_SEND_IMM || opcode == MLX5_OPCODE_RDMA_WRITE_IMM;
    }

    long length() {
        long n = 0;
        for (Gather g : gather) {
            n += g.length();
        }
        return n;
    }

    /**
     * Parses the WQE in {@code w} (its basic blocks already copied in order, the ring's wrap
     * undone) for a QP that does ({@code datagram}) or does not carry a datagram segment.
     */
    static SendWqe parse(byte[] w, boolean datagram) throws Malformed {
        int opmodIdxOpcode = be32(w, 0);
        int ds = be32(w, 4) & 0x3f;
        int opcode = opmodIdxOpcode & 0xff;
        int index = opmodIdxOpcode >>> 8 & 0xffff;
        boolean signaled = (w[11] & MLX5_WQE_CTRL_CQ_UPDATE) != 0;
        int imm = be32(w, 12);
        int end = ds * 16;
        if (ds == 0 || end > w.length) {
            throw new Malformed("WQE with " + ds + " DS");
        }
        int at = CTRL_SIZE;
        if (datagram) {
            at += DATAGRAM_SIZE;
        }
        long raddr = 0;
        int rkey = 0;
        if (hasRaddr(opcode)) {
            if (at + RADDR_SIZE > end) {
                throw new Malformed("opcode 0x" + Integer.toHexString(opcode) + " without a remote address segment");
            }
            raddr = be64(w, at);
            rkey = be32(w, at + 8);
            at += RADDR_SIZE;
        }
        List<Gather> gather = new ArrayList<>();
        while (at < end) {
            int byteCount = be32(w, at);
            if ((byteCount & MLX5_INLINE_SEG) != 0) {
                int n = byteCount & ~MLX5_INLINE_SEG;
                if (at + 4 + (long) n > end) {
                    throw new Malformed("inline data of " + n + " bytes beyond the WQE's " + ds + " DS");
                }
                byte[] data = new byte[n];
                System.arraycopy(w, at + 4, data, 0, n);
                gather.add(new Inline(data));
                at += (4 + n + 15) & ~15;
            } else {
                if (at + DATA_SEG_SIZE > end) {
                    throw new Malformed("data segment beyond the WQE's " + ds + " DS");
                }
                // byte_count 0 means 2^31 bytes (PRM); the providers never post empty entries
                long length = byteCount == 0 ? 1L << 31 : Integer.toUnsignedLong(byteCount);
                gather.add(new Sge(be32(w, at + 4), be64(w, at + 8), length));
                at += DATA_SEG_SIZE;
            }
        }
        return new SendWqe(index, opcode, ds, signaled, imm, raddr, rkey, List.copyOf(gather));
    }

    static int be32(byte[] b, int o) {
        return (b[o] & 0xff) << 24 | (b[o + 1] & 0xff) << 16 | (b[o + 2] & 0xff) << 8 | (b[o + 3] & 0xff);
    }

    static long be64(byte[] b, int o) {
        return (be32(b, o) & 0xffffffffL) << 32 | (be32(b, o + 4) & 0xffffffffL);
    }
}
