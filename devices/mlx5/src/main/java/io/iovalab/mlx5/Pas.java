package io.iovalab.mlx5;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_CMD_STAT_BAD_INP_LEN_ERR;
import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_CMD_STAT_BAD_PARAM_ERR;

/** Physical address (here: IOVA) lists of queue buffers: big-endian 64-bit page addresses after a command's fixed part. */
final class Pas {
    private Pas() {
    }

    /** Reads {@code n} entries at input byte {@code base}; each must be aligned to the buffer's page size. */
    static long[] read(Command c, int base, int n, long pageSize) throws CommandException {
        c.requireIn(base + 8 * n);
        long[] pas = new long[n];
        for (int i = 0; i < n; i++) {
            pas[i] = PageCommands.be64(c.in, base + 8 * i);
            if ((pas[i] & (pageSize - 1)) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM,
                        "pas[" + i + "] 0x" + Long.toHexString(pas[i]) + " not page aligned");
            }
        }
        if (n == 0 && c.in.length < base) {
            throw new CommandException(MLX5_CMD_STAT_BAD_INP_LEN_ERR, Syndrome.INPUT_TOO_SHORT, "no page list");
        }
        return pas;
    }
}
