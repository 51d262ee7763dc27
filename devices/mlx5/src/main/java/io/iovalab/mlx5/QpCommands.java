package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
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
 * the context at byte 0x18), which is why one reader serves them.
 */
final class QpCommands {
    private QpCommands() {
    }

    /** rq_type values (MLX5_NON_ZERO_RQ, MLX5_SRQ_RQ, ..., MLX5_ZERO_LEN_RQ in qp.h). */
    static final int RQ_ZERO_LEN = 3;
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
            long dbr = c.in(ctx, qpc.dbr_addr);
            int qpn = r.qps.add(n -> {
                Resources.Qp q = new Resources.Qp(n, st, pd, cqnSnd, cqnRcv, MLX5_QPC_STATE_RST);
                // the send queue engine needs where the SQ is and where the driver counts its posts
                q.pas = buffer;
                q.pageSize = pageSize;
                q.sqOffset = offset + rq;
                q.logSqSize = logSq;
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
                qp.state = t.to();
                if (t.to() == MLX5_QPC_STATE_RST) {
                    qp.sqConsumed = 0; // the driver restarts its send counter at 0 after a reset (UMR recovery)
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
        });
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
