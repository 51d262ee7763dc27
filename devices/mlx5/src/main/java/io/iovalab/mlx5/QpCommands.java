package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.ads;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_qp_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_qp_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.destroy_qp_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.qpc;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_qp_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_qp_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.rst2init_qp_in;

import java.util.Set;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * Queue pairs: CREATE_QP checks the context against the objects it names (PD, send and receive
 * CQs, UAR) and the page list against the buffer the context describes; the modify commands walk
 * the IB QP state machine (RST → INIT → RTR → RTS, any → ERR or RST) and refuse a transition
 * from the wrong state with BAD_QP_STATE. All modify commands share one layout (qpn at 0x48,
 * the optional-parameter mask at 0x10, the context at byte 0x18), which is why one reader
 * serves them. QUERY_QP reports what the device keeps: state, connection, PSNs, geometry.
 */
final class QpCommands {
    private QpCommands() {
    }

    /** rq_type values (MLX5_NON_ZERO_RQ, MLX5_SRQ_RQ, ..., MLX5_ZERO_LEN_RQ in qp.h). */
    static final int RQ_NON_ZERO = 0;
    static final int RQ_ZERO_LEN = 3;
    // include/linux/mlx5/qp.h: which optional context fields a modify command carries
    static final int MLX5_QP_OPTPAR_RRE = 1 << 1;
    static final int MLX5_QP_OPTPAR_RAE = 1 << 2;
    static final int MLX5_QP_OPTPAR_RWE = 1 << 3;
    static final int SEND_WQE_BB = 64;

    record Transition(int opcode, Set<Integer> from, int to) {
    }

    static final Set<Integer> ANY = Set.of(MLX5_QPC_STATE_RST, MLX5_QPC_STATE_INIT, MLX5_QPC_STATE_RTR, MLX5_QPC_STATE_RTS,
            MLX5_QPC_STATE_SQER, MLX5_QPC_STATE_SQD, MLX5_QPC_STATE_ERR);

    static final Transition[] TRANSITIONS = {
            new Transition(MLX5_CMD_OP_RST2INIT_QP, Set.of(MLX5_QPC_STATE_RST), MLX5_QPC_STATE_INIT),
            new Transition(MLX5_CMD_OP_INIT2INIT_QP, Set.of(MLX5_QPC_STATE_INIT), MLX5_QPC_STATE_INIT),
            new Transition(MLX5_CMD_OP_INIT2RTR_QP, Set.of(MLX5_QPC_STATE_INIT), MLX5_QPC_STATE_RTR),
            new Transition(MLX5_CMD_OP_RTR2RTS_QP, Set.of(MLX5_QPC_STATE_RTR), MLX5_QPC_STATE_RTS),
            new Transition(MLX5_CMD_OP_RTS2RTS_QP, Set.of(MLX5_QPC_STATE_RTS), MLX5_QPC_STATE_RTS),
            new Transition(MLX5_CMD_OP_SQERR2RTS_QP, Set.of(MLX5_QPC_STATE_SQER), MLX5_QPC_STATE_RTS),
            new Transition(MLX5_CMD_OP_SQD_RTS_QP, Set.of(MLX5_QPC_STATE_SQD), MLX5_QPC_STATE_RTS),
            new Transition(MLX5_CMD_OP_2ERR_QP, ANY, MLX5_QPC_STATE_ERR),
            new Transition(MLX5_CMD_OP_2RST_QP, ANY, MLX5_QPC_STATE_RST),
    };

    static void register(Firmware fw) {
        Resources r = fw.resources;
        fw.register(MLX5_CMD_OP_CREATE_QP, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int ctx = create_qp_in.qpc.byteOffset();
            c.requireIn(create_qp_in.pas.byteOffset());
            int st = (int) c.in(ctx, qpc.st);
            int pd = (int) c.in(ctx, qpc.pd);
            int cqnSnd = (int) c.in(ctx, qpc.cqn_snd);
            int cqnRcv = (int) c.in(ctx, qpc.cqn_rcv);
            int uar = (int) c.in(ctx, qpc.uar_page);
            // a UMR QP has no PD of its own (qp.c leaves it 0): the keys it writes carry theirs
            if (r.pds.get(pd) == null && !(st == MLX5_QPC_ST_REG_UMR && pd == 0)) {
                throw bad("pd " + pd + " does not exist");
            }
            for (int cqn : new int[] {cqnSnd, cqnRcv}) {
                if (cqn != 0 && r.cqs.get(cqn) == null) {
                    throw bad("cqn " + cqn + " does not exist");
                }
            }
            if (!fw.uars.allocated(uar)) {
                throw bad("uar_page " + uar + " not allocated");
            }
            long[] pas = new long[0];
            long pageSize = 4096L << c.in(ctx, qpc.log_page_size);
            long rq = c.in(ctx, qpc.rq_type) == RQ_ZERO_LEN ? 0
                    : (16L << c.in(ctx, qpc.log_rq_stride)) << c.in(ctx, qpc.log_rq_size);
            boolean noSq = c.in(ctx, qpc.no_sq) != 0;
            long sq = noSq ? 0 : (long) SEND_WQE_BB << c.in(ctx, qpc.log_sq_size);
            long offset = c.in(ctx, qpc.page_offset) * SEND_WQE_BB;
            if (c.in(create_qp_in.wq_umem_valid) == 0) {
                pas = Pas.read(c, create_qp_in.pas.byteOffset(), (int) ((offset + rq + sq + pageSize - 1) / pageSize), pageSize);
            }
            long[] buffer = pas;
            int logSq = noSq ? -1 : (int) c.in(ctx, qpc.log_sq_size);
            int logRq = c.in(ctx, qpc.rq_type) == RQ_NON_ZERO ? (int) c.in(ctx, qpc.log_rq_size) : -1;
            int logRqStride = (int) c.in(ctx, qpc.log_rq_stride) + 4;
            int userIndex = (int) c.in(ctx, qpc.user_index);
            long dbr = c.in(ctx, qpc.dbr_addr);
            int qpn = r.qps.add(n -> {
                Resources.Qp q = new Resources.Qp(n, st, pd, cqnSnd, cqnRcv, MLX5_QPC_STATE_RST);
                // the send queue engine needs where the SQ is and where the driver counts its posts
                q.pas = buffer;
                q.pageSize = pageSize;
                q.sqOffset = offset + rq;
                q.logSqSize = logSq;
                q.rqOffset = offset;
                q.logRqSize = logRq;
                q.logRqStride = logRqStride;
                q.userIndex = userIndex;
                q.dbrAddr = dbr;
                return q;
            });
            if (qpn < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no QP number left");
            }
            c.out(create_qp_out.qpn, qpn);
        });
        fw.register(MLX5_CMD_OP_DESTROY_QP, c -> {
            int qpn = (int) c.in(destroy_qp_in.qpn);
            if (r.qps.remove(qpn) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "QP " + qpn + " does not exist");
            }
        });
        for (Transition t : TRANSITIONS) {
            fw.register(t.opcode(), c -> {
                Resources.Qp qp = qp(r, c, rst2init_qp_in.qpn);
                if (!t.from().contains(qp.state)) {
                    throw new CommandException(MLX5_CMD_STAT_BAD_QP_STATE_ERR, Syndrome.BAD_STATE,
                            "QP 0x" + Integer.toHexString(qp.qpn) + " is in state " + qp.state);
                }
                applyContext(c, t.opcode(), qp);
                qp.state = t.to();
                if (t.to() == MLX5_QPC_STATE_RST) {
                    // the driver restarts its counters at 0 after a reset (UMR recovery, ibv_modify_qp to RESET)
                    qp.sqConsumed = 0;
                    qp.rqConsumed = 0;
                    qp.rnrWaiting = false;
                    qp.pageFaultPending = false;
                    qp.pageFaultError = false;
                    qp.pageFaults = 0;
                }
                if (t.to() == MLX5_QPC_STATE_ERR) {
                    fw.qpErrored.run(); // outstanding WQEs are flushed by the send-queue engine, on the worker
                }
            });
        }
        fw.register(MLX5_CMD_OP_QUERY_QP, c -> {
            Resources.Qp qp = qp(r, c, query_qp_in.qpn);
            int ctx = query_qp_out.qpc.byteOffset();
            c.requireOut(ctx + qpc.SIZE_BYTES);
            c.out(ctx, qpc.state, qp.state);
            c.out(ctx, qpc.st, qp.st);
            c.out(ctx, qpc.pd, qp.pd);
            c.out(ctx, qpc.cqn_snd, qp.cqnSnd);
            c.out(ctx, qpc.cqn_rcv, qp.cqnRcv);
            c.out(ctx, qpc.remote_qpn, qp.remoteQpn);
            c.out(ctx + PRIMARY_PATH, ads.rlid, qp.rlid);
            c.out(ctx, qpc.mtu, qp.mtu);
            c.out(ctx, qpc.next_rcv_psn, qp.nextRcvPsn);
            c.out(ctx, qpc.next_send_psn, qp.nextSendPsn);
            c.out(ctx, qpc.rre, qp.rre ? 1 : 0);
            c.out(ctx, qpc.rwe, qp.rwe ? 1 : 0);
            c.out(ctx, qpc.rae, qp.rae ? 1 : 0);
            c.out(ctx, qpc.user_index, qp.userIndex);
            c.out(ctx, qpc.log_rq_size, Math.max(0, qp.logRqSize));
            c.out(ctx, qpc.log_rq_stride, Math.max(0, qp.logRqStride - 4));
            c.out(ctx, qpc.log_sq_size, Math.max(0, qp.logSqSize));
            c.out(ctx, qpc.rq_type, qp.logRqSize >= 0 ? RQ_NON_ZERO : RQ_ZERO_LEN);
            c.out(ctx, qpc.no_sq, qp.logSqSize < 0 ? 1 : 0);
            c.out(ctx, qpc.dbr_addr, qp.dbrAddr);
            c.out(ctx, qpc.hw_sq_wqebb_counter, qp.sqConsumed);
            c.out(ctx, qpc.hw_rq_counter, qp.rqConsumed);
        });
    }

    /** Byte offset of the primary address path (struct ads) inside the QP context. */
    static final int PRIMARY_PATH = qpc.primary_address_path.byteOffset();

    /**
     * The context fields a transition carries (modify_qp_mask in qp.c): RST2INIT the access
     * enables; INIT2RTR the destination (remote QPN, the path's LID), the MTU and the receive PSN;
     * RTR2RTS the send PSN. Later transitions change the access enables only when the optional
     * parameter mask says so, as on hardware.
     */
    private static void applyContext(Command c, int opcode, Resources.Qp qp) throws CommandException {
        int ctx = rst2init_qp_in.qpc.byteOffset();
        if (c.in.length < ctx + qpc.SIZE_BYTES) {
            return; // 2ERR / 2RST carry no context
        }
        long opt = c.in(rst2init_qp_in.opt_param_mask);
        boolean accessGiven = opcode == MLX5_CMD_OP_RST2INIT_QP
                || (opt & (MLX5_QP_OPTPAR_RRE | MLX5_QP_OPTPAR_RWE | MLX5_QP_OPTPAR_RAE)) != 0;
        if (accessGiven && (opcode == MLX5_CMD_OP_RST2INIT_QP || opcode == MLX5_CMD_OP_INIT2INIT_QP
                || opcode == MLX5_CMD_OP_INIT2RTR_QP || opcode == MLX5_CMD_OP_RTR2RTS_QP || opcode == MLX5_CMD_OP_RTS2RTS_QP)) {
            qp.rre = c.in(ctx, qpc.rre) != 0;
            qp.rwe = c.in(ctx, qpc.rwe) != 0;
            qp.rae = c.in(ctx, qpc.rae) != 0;
        }
        if (opcode == MLX5_CMD_OP_INIT2RTR_QP) {
            qp.remoteQpn = (int) c.in(ctx, qpc.remote_qpn);
            qp.rlid = (int) c.in(ctx + PRIMARY_PATH, ads.rlid);
            qp.mtu = (int) c.in(ctx, qpc.mtu);
            qp.nextRcvPsn = (int) c.in(ctx, qpc.next_rcv_psn);
        }
        if (opcode == MLX5_CMD_OP_RTR2RTS_QP) {
            qp.nextSendPsn = (int) c.in(ctx, qpc.next_send_psn);
        }
    }

    private static Resources.Qp qp(Resources r, Command c, Field qpnField) throws CommandException {
        int qpn = (int) c.in(qpnField);
        Resources.Qp qp = r.qps.get(qpn);
        if (qp == null) {
            throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "QP " + qpn + " does not exist");
        }
        return qp;
    }

    private static CommandException bad(String why) {
        return new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, why);
    }
}
