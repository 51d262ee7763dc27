package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.create_eq_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_eq_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.destroy_eq_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.eqc;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * CREATE_EQ / DESTROY_EQ. The EQ context ({@code eqc}) gives the ring's size, page size, UAR and
 * MSI-X vector; the page list ({@code pas}, 64-bit IOVAs) follows the fixed part of the input.
 * Everything is checked before the EQ exists, so a bad context creates nothing.
 */
final class EqCommands {
    private EqCommands() {
    }

    static final int MAX_LOG_EQ_SIZE = 22;

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_CREATE_EQ, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int ctx = create_eq_in.eq_context_entry.byteOffset();
            c.requireIn(create_eq_in.pas.byteOffset());
            int logSize = (int) c.in(ctx, eqc.log_eq_size);
            int logPageSize = (int) c.in(ctx, eqc.log_page_size);
            int uar = (int) c.in(ctx, eqc.uar_page);
            int vector = (int) c.in(ctx, eqc.intr);
            if (logSize > MAX_LOG_EQ_SIZE || logPageSize > 20 || c.in(ctx, eqc.page_offset) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM,
                        "log_eq_size " + logSize + " log_page_size " + logPageSize);
            }
            if (!fw.uars.allocated(uar)) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "uar_page " + uar + " not allocated");
            }
            if (vector >= fw.config.vectors()) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "intr " + vector
                        + " beyond the " + fw.config.vectors() + " MSI-X vectors");
            }
            long pageSize = 4096L << logPageSize;
            long bytes = (long) EventQueue.EQE_SIZE << logSize;
            int npages = (int) ((bytes + pageSize - 1) / pageSize);
            long[] pas = Pas.read(c, create_eq_in.pas.byteOffset(), npages, pageSize);
            long[] mask = new long[4];
            int maskBase = create_eq_in.event_bitmask.byteOffset();
            for (int i = 0; i < 4; i++) {
                mask[i] = PageCommands.be64(c.in, maskBase + 8 * i);
            }
            int eqn = fw.eqs.freeNumber();
            if (eqn < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no EQ number left");
            }
            fw.eqs.add(new EventQueue(eqn, logSize, logPageSize, pas, vector, mask, uar));
            c.out(create_eq_out.eq_number, eqn);
        });
        fw.register(MLX5_CMD_OP_DESTROY_EQ, c -> {
            int eqn = (int) c.in(destroy_eq_in.eq_number);
            if (fw.eqs.remove(eqn) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "EQ " + eqn + " does not exist");
            }
        });
    }
}
