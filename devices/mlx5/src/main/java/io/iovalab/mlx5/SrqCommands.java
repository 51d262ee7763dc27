package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.create_rmp_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_rmp_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_xrc_srq_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_xrc_srq_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.destroy_rmp_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.destroy_xrc_srq_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.rmpc;
import io.iovalab.mlx5.ifc.Mlx5Ifc.wq;
import io.iovalab.mlx5.ifc.Mlx5Ifc.xrc_srqc;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * Shared receive queues. With ISSI 1 the driver creates a plain SRQ as an RMP (CREATE_RMP, its
 * buffer described by a {@code wq}) and an XRC SRQ with CREATE_XRC_SRQ (srq_cmd.c); mlx5_ib makes
 * one of each at start-up for its own use (mlx5_ib_dev_res_srq_init). Both answer to the same SRQ
 * numbers in the driver, so they share one number space here.
 */
final class SrqCommands {
    private SrqCommands() {
    }

    static void register(Firmware fw) {
        Resources r = fw.resources;
        fw.register(MLX5_CMD_OP_CREATE_XRC_SRQ, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int ctx = create_xrc_srq_in.xrc_srq_context_entry.byteOffset();
            c.requireIn(create_xrc_srq_in.pas.byteOffset());
            int pd = (int) c.in(ctx, xrc_srqc.pd);
            int xrcd = (int) c.in(ctx, xrc_srqc.xrcd);
            int cqn = (int) c.in(ctx, xrc_srqc.cqn);
            requirePd(r, pd);
            if (r.xrcds.get(xrcd) == null) {
                throw bad("xrcd " + xrcd + " does not exist");
            }
            if (cqn != 0 && r.cqs.get(cqn) == null) {
                throw bad("cqn " + cqn + " does not exist");
            }
            if (c.in(create_xrc_srq_in.xrc_srq_umem_valid) == 0) {
                long pageSize = 4096L << c.in(ctx, xrc_srqc.log_page_size);
                long bytes = (16L << c.in(ctx, xrc_srqc.log_rq_stride)) << c.in(ctx, xrc_srqc.log_xrc_srq_size)
                        + c.in(ctx, xrc_srqc.page_offset) * 64;
                Pas.read(c, create_xrc_srq_in.pas.byteOffset(), (int) ((bytes + pageSize - 1) / pageSize), pageSize);
            }
            int srqn = r.srqs.add(n -> new Resources.Srq(n, true, pd, xrcd, cqn));
            if (srqn < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no SRQ number left");
            }
            c.out(create_xrc_srq_out.xrc_srqn, srqn);
        });
        fw.register(MLX5_CMD_OP_CREATE_RMP, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int w = create_rmp_in.ctx.byteOffset() + rmpc.wq.byteOffset();
            c.requireIn(w + wq.pas.byteOffset());
            int pd = (int) c.in(w, wq.pd);
            requirePd(r, pd);
            long pageSize = 4096L << c.in(w, wq.log_wq_pg_sz);
            long bytes = (1L << c.in(w, wq.log_wq_stride)) << c.in(w, wq.log_wq_sz);
            Pas.read(c, w + wq.pas.byteOffset(), (int) ((bytes + pageSize - 1) / pageSize), pageSize);
            int srqn = r.srqs.add(n -> new Resources.Srq(n, false, pd, 0, 0));
            if (srqn < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no SRQ number left");
            }
            c.out(create_rmp_out.rmpn, srqn);
        });
        fw.register(MLX5_CMD_OP_DESTROY_XRC_SRQ, c -> destroy(r, (int) c.in(destroy_xrc_srq_in.xrc_srqn), true));
        fw.register(MLX5_CMD_OP_DESTROY_RMP, c -> destroy(r, (int) c.in(destroy_rmp_in.rmpn), false));
    }

    private static void destroy(Resources r, int srqn, boolean xrc) throws CommandException {
        Resources.Srq s = r.srqs.get(srqn);
        if (s == null || s.xrc() != xrc) {
            throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE,
                    (xrc ? "XRC SRQ " : "RMP ") + srqn + " does not exist");
        }
        r.srqs.remove(srqn);
    }

    private static void requirePd(Resources r, int pd) throws CommandException {
        if (r.pds.get(pd) == null) {
            throw bad("pd " + pd + " does not exist");
        }
    }

    private static CommandException bad(String why) {
        return new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, why);
    }
}
