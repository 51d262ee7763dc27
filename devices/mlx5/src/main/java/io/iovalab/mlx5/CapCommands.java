package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.cmd_hca_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.odp_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_cap_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_cap_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.set_hca_cap_in;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * QUERY_HCA_CAP / SET_HCA_CAP. op_mod = cap_type << 1 | (1 = current, 0 = max) for the query,
 * cap_type << 1 for the set (set_caps, main.c). The driver asks only for the cap types the
 * general page advertises; any other type is a parameter error, not a zero page it would
 * misread.
 */
final class CapCommands {
    private CapCommands() {
    }

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_QUERY_HCA_CAP, c -> {
            int type = c.opMod() >>> 1;
            boolean current = (c.opMod() & 1) != 0;
            if (c.in(query_hca_cap_in.other_function) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "no other functions");
            }
            if (!fw.caps.supported(type)) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNSUPPORTED_OP_MOD | c.opMod(),
                        "cap type 0x" + Integer.toHexString(type));
            }
            int base = query_hca_cap_out.capability.byteOffset();
            c.requireOut(base + cmd_hca_cap.SIZE_BYTES);
            byte[] page = fw.caps.page(type, current);
            c.outBytes(base, page, Math.min(page.length, c.out.length - base));
        });
        fw.register(MLX5_CMD_OP_SET_HCA_CAP, c -> {
            int type = c.opMod() >>> 1;
            int base = set_hca_cap_in.capability.byteOffset();
            if (c.in(set_hca_cap_in.other_function) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "no other functions");
            }
            if (type == MLX5_CAP_ODP) {
                c.requireIn(base + odp_cap.SIZE_BYTES);
                fw.caps.setOdp(c.in, base);
                return;
            }
            if (type != MLX5_CAP_GENERAL) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNSUPPORTED_OP_MOD | c.opMod(),
                        "cap type 0x" + Integer.toHexString(type) + " is not settable");
            }
            c.requireIn(base + cmd_hca_cap.SIZE_BYTES);
            fw.caps.setGeneral(c.in, base);
        });
    }
}
