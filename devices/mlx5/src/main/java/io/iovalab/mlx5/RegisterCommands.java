package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.access_register_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.access_register_out;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * ACCESS_REG: op_mod 0 writes, 1 reads the register named by register_id; the register's bytes
 * follow the 16-byte header in both directions. Only the registers the driver touches with our
 * caps exist: HOST_ENDIANNESS (set_hca_ctrl, main.c, written once on a PF). Any other id is a
 * parameter error whose syndrome carries the id.
 */
final class RegisterCommands {
    private RegisterCommands() {
    }

    static final int WRITE = 0;
    static final int READ = 1;
    /** struct mlx5_reg_host_endianness (driver.h): he, then 15 reserved bytes. */
    static final int HOST_ENDIANNESS_SIZE = 16;

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_ACCESS_REG, c -> {
            int id = (int) c.in(access_register_in.register_id);
            int size = switch (id) {
                case MLX5_REG_HOST_ENDIANNESS -> HOST_ENDIANNESS_SIZE;
                default -> throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNKNOWN_REGISTER | id,
                        "register 0x" + Integer.toHexString(id));
            };
            int inBase = access_register_in.register_data.byteOffset();
            int outBase = access_register_out.register_data.byteOffset();
            byte[] value = fw.registers.computeIfAbsent(id, k -> new byte[size]);
            switch (c.opMod()) {
                case WRITE -> {
                    c.requireIn(inBase + size);
                    System.arraycopy(c.in, inBase, value, 0, size);
                }
                case READ -> {
                    c.requireOut(outBase + size);
                    c.outBytes(outBase, value, size);
                }
                default -> throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNSUPPORTED_OP_MOD | c.opMod(),
                        "ACCESS_REG op_mod");
            }
        });
    }
}
