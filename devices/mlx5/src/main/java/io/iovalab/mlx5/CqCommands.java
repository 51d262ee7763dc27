package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.cmd_hca_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.cqc;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_cq_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_cq_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.destroy_cq_in;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * CREATE_CQ / DESTROY_CQ. The CQ context names the EQ its completion events go to, the UAR its
 * arm doorbell is written to, and the ring's geometry; the page list follows the fixed input
 * (unless the CQ lives in a user memory object, cq_umem_valid). A CQ used by a QP cannot be
 * destroyed. CQEs are written by the send-queue engine ({@link SendQueues}).
 */
final class CqCommands {
    private CqCommands() {
    }

    static final int CQE_64 = 0;
    static final int CQE_128 = 1;

    static void register(Firmware fw) {
        Resources r = fw.resources;
        fw.register(MLX5_CMD_OP_CREATE_CQ, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int ctx = create_cq_in.cq_context.byteOffset();
            c.requireIn(create_cq_in.pas.byteOffset());
            int logSize = (int) c.in(ctx, cqc.log_cq_size);
            int eqn = (int) c.in(ctx, cqc.c_eqn_or_apu_element);
            int uar = (int) c.in(ctx, cqc.uar_page);
            int cqeSz = (int) c.in(ctx, cqc.cqe_sz);
            int logPageSize = (int) c.in(ctx, cqc.log_page_size);
            if (logSize > fw.caps.current(MLX5_CAP_GENERAL, cmd_hca_cap.log_max_cq_sz) || cqeSz > CQE_128 || logPageSize > 20) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM,
                        "log_cq_size " + logSize + " cqe_sz " + cqeSz + " log_page_size " + logPageSize);
            }
            if (fw.eqs.get(eqn) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "c_eqn " + eqn + " does not exist");
            }
            if (!fw.uars.allocated(uar)) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "uar_page " + uar + " not allocated");
            }
            long[] pas = new long[0];
            if (c.in(create_cq_in.cq_umem_valid) == 0) {
                long pageSize = 4096L << logPageSize;
                long bytes = (64L << cqeSz) << logSize;
                pas = Pas.read(c, create_cq_in.pas.byteOffset(), (int) ((bytes + pageSize - 1) / pageSize), pageSize);
            }
            long[] pages = pas;
            long dbr = c.in(ctx, cqc.dbr_addr);
            int cqn = r.cqs.add(n -> new Resources.Cq(n, logSize, eqn, uar, pages, 4096L << logPageSize, 64 << cqeSz, dbr));
            if (cqn < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no CQ number left");
            }
            c.out(create_cq_out.cqn, cqn);
        });
        fw.register(MLX5_CMD_OP_DESTROY_CQ, c -> {
            int cqn = (int) c.in(destroy_cq_in.cqn);
            if (r.cqs.get(cqn) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "CQ " + cqn + " does not exist");
            }
            for (Resources.Qp qp : r.qps.all().values()) {
                if (qp.cqnSnd == cqn || qp.cqnRcv == cqn) {
                    throw new CommandException(MLX5_CMD_STAT_BAD_RES_STATE_ERR, Syndrome.BAD_STATE,
                            "CQ " + cqn + " still serves QP 0x" + Integer.toHexString(qp.qpn));
                }
            }
            r.cqs.remove(cqn);
        });
    }
}
