package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.alloc_uar_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.dealloc_uar_in;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/** ALLOC_UAR / DEALLOC_UAR: the driver's doorbell pages inside BAR0. */
final class UarCommands {
    private UarCommands() {
    }

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_ALLOC_UAR, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int uar = fw.uars.alloc();
            if (uar < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no UAR page left in BAR0");
            }
            c.out(alloc_uar_out.uar, uar);
        });
        fw.register(MLX5_CMD_OP_DEALLOC_UAR, c -> {
            int uar = (int) c.in(dealloc_uar_in.uar);
            if (!fw.uars.free(uar)) {
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "UAR " + uar + " not allocated");
            }
        });
    }
}
