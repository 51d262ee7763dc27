package io.iovalab.mlx5;

/**
 * A 64-byte completion queue entry (struct mlx5_cqe64, and struct mlx5_err_cqe for errors, in
 * include/linux/mlx5/device.h), without its owner bit, which only the CQ knows. With CQE
 * version 1 rdma-core finds the QP by the user index in the srqn field, the kernel by the QP
 * number in sop_drop_qpn; both are always filled. The WQE counter is the SQ index of the WQE
 * (the requester matches its work request by it) or the RQ index.
 *
 * @param opcode     MLX5_CQE_REQ, MLX5_CQE_RESP_*, MLX5_CQE_REQ_ERR or MLX5_CQE_RESP_ERR (op_own's high nibble)
 * @param wqeOpcode  the send WQE's opcode (sop_drop_qpn / s_wqe_opcode_qpn bits 31:24); 0 on the receive side
 * @param qpn        the QP the entry is for
 * @param wqeCounter SQ index (requester) or RQ index (responder)
 * @param byteCount  bytes received (responder) or read (RDMA read requester)
 * @param imm        immediate data as it was in the WQE (big-endian on the wire and in the CQE)
 * @param srcQpn     the sender's QP (responder), flags_rqpn bits 23:0
 * @param slid       the sender's LID (responder)
 * @param userIndex  the QP's user index (qpc.user_index)
 * @param syndrome   MLX5_CQE_SYNDROME_* for error entries, else 0
 */
record Cqe(int opcode, int wqeOpcode, int qpn, int wqeCounter, long byteCount, int imm, int srcQpn, int slid,
           int userIndex, int syndrome) {

    // include/linux/mlx5/cq.h
    static final int MLX5_CQE_REQ = 0;
    static final int MLX5_CQE_RESP_WR_IMM = 1;
    static final int MLX5_CQE_RESP_SEND = 2;
    static final int MLX5_CQE_RESP_SEND_IMM = 3;
    static final int MLX5_CQE_REQ_ERR = 13;
    static final int MLX5_CQE_RESP_ERR = 14;
    static final int MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR = 0x01;
    static final int MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR = 0x02;
    static final int MLX5_CQE_SYNDROME_LOCAL_PROT_ERR = 0x04;
    static final int MLX5_CQE_SYNDROME_WR_FLUSH_ERR = 0x05;
    static final int MLX5_CQE_SYNDROME_REMOTE_INVAL_REQ_ERR = 0x12;
    static final int MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR = 0x13;
    static final int MLX5_CQE_SYNDROME_REMOTE_OP_ERR = 0x14;
    static final int MLX5_CQE_SYNDROME_TRANSPORT_RETRY_EXC_ERR = 0x15;

    static final int SIZE = 64;
    // byte offsets in mlx5_cqe64 / mlx5_err_cqe
    static final int SLID = 0x16;
    static final int FLAGS_RQPN = 0x18;
    static final int SRQN_UIDX = 0x20;
    static final int IMMEDIATE = 0x24;
    static final int BYTE_CNT = 0x2c;
    static final int SYNDROME = 0x37;
    static final int SOP_DROP_QPN = 0x38;
    static final int WQE_COUNTER = 0x3c;
    static final int OP_OWN = 0x3f;

    static Cqe requester(Resources.Qp qp, int wqeOpcode, int wqeCounter, long byteCount) {
        return new Cqe(MLX5_CQE_REQ, wqeOpcode, qp.qpn, wqeCounter, byteCount, 0, 0, 0, qp.userIndex, 0);
    }

    static Cqe requesterError(Resources.Qp qp, int wqeOpcode, int wqeCounter, int syndrome) {
        return new Cqe(MLX5_CQE_REQ_ERR, wqeOpcode, qp.qpn, wqeCounter, 0, 0, 0, 0, qp.userIndex, syndrome);
    }

    static Cqe responder(Resources.Qp qp, int opcode, int wqeCounter, long byteCount, int imm, int srcQpn, int slid) {
        return new Cqe(opcode, 0, qp.qpn, wqeCounter, byteCount, imm, srcQpn, slid, qp.userIndex, 0);
    }

    static Cqe responderError(Resources.Qp qp, int wqeCounter, int syndrome) {
        return new Cqe(MLX5_CQE_RESP_ERR, 0, qp.qpn, wqeCounter, 0, 0, 0, 0, qp.userIndex, syndrome);
    }

    boolean error() {
        return opcode == MLX5_CQE_REQ_ERR || opcode == MLX5_CQE_RESP_ERR;
    }

    /** The entry's 64 bytes with the owner bit clear (op_own = opcode << 4). */
    byte[] bytes() {
        byte[] b = new byte[SIZE];
        putBe32(b, SRQN_UIDX, userIndex & 0xffffff);
        putBe32(b, SOP_DROP_QPN, wqeOpcode << 24 | qpn & 0xffffff);
        b[WQE_COUNTER] = (byte) (wqeCounter >>> 8);
        b[WQE_COUNTER + 1] = (byte) wqeCounter;
        if (error()) {
            b[SYNDROME] = (byte) syndrome;
        } else {
            b[SLID] = (byte) (slid >>> 8);
            b[SLID + 1] = (byte) slid;
            putBe32(b, FLAGS_RQPN, srcQpn & 0xffffff);
            putBe32(b, IMMEDIATE, imm);
            putBe32(b, BYTE_CNT, (int) byteCount);
        }
        b[OP_OWN] = (byte) (opcode << 4);
        return b;
    }

    static void putBe32(byte[] b, int o, int v) {
        b[o] = (byte) (v >>> 24);
        b[o + 1] = (byte) (v >>> 16);
        b[o + 2] = (byte) (v >>> 8);
        b[o + 3] = (byte) v;
    }
}
