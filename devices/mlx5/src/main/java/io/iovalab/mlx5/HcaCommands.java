package io.iovalab.mlx5;

import io.iovalab.mlx5.Firmware.HcaState;
import io.iovalab.mlx5.ifc.Mlx5Ifc.disable_hca_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.enable_hca_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_adapter_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_adapter_param_block;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_issi_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.set_driver_version_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.set_issi_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.teardown_hca_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.teardown_hca_out;

import java.nio.charset.StandardCharsets;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The HCA life cycle and identity: ENABLE/DISABLE_HCA, INIT/TEARDOWN_HCA, the interface step
 * (ISSI), SET_DRIVER_VERSION, QUERY_ADAPTER and NOP. The order is the one mlx5_core walks
 * (main.c: enable → issi → pages → caps → init; teardown → reclaim → disable); a command out of
 * that order answers BAD_SYS_STATE, as firmware would.
 */
final class HcaCommands {
    private HcaCommands() {
    }

    /** Interface step versions we speak: 0 and 1 (supported_issi_dw0 bit n = ISSI n). */
    static final int SUPPORTED_ISSI = 0b11;
    /** ieee_vendor_id of Mellanox, as firmware reports it. */
    static final int IEEE_VENDOR_ID = 0x02c9;

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_ENABLE_HCA, c -> {
            c.requireIn(enable_hca_in.SIZE_BYTES);
            if (c.in(enable_hca_in.function_id) != 0 || c.in(enable_hca_in.embedded_cpu_function) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "no such function (no VFs)");
            }
            fw.requireState(HcaState.DISABLED);
            fw.state = HcaState.ENABLED;
        });
        fw.register(MLX5_CMD_OP_DISABLE_HCA, c -> {
            c.requireIn(disable_hca_in.SIZE_BYTES);
            if (c.in(disable_hca_in.function_id) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "no such function (no VFs)");
            }
            fw.requireState(HcaState.ENABLED);
            fw.state = HcaState.DISABLED;
        });
        fw.register(MLX5_CMD_OP_QUERY_ISSI, c -> {
            c.out(query_issi_out.current_issi, fw.issi);
            c.out(query_issi_out.supported_issi_dw0, SUPPORTED_ISSI);
        });
        fw.register(MLX5_CMD_OP_SET_ISSI, c -> {
            long issi = c.in(set_issi_in.current_issi);
            if (issi >= 32 || (SUPPORTED_ISSI & (1 << issi)) == 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "ISSI " + issi);
            }
            fw.issi = (int) issi;
        });
        fw.register(MLX5_CMD_OP_INIT_HCA, c -> {
            fw.requireState(HcaState.ENABLED);
            fw.state = HcaState.INITIALIZED;
        });
        fw.register(MLX5_CMD_OP_TEARDOWN_HCA, c -> {
            long profile = c.in(teardown_hca_in.profile);
            if (profile != MLX5_TEARDOWN_HCA_IN_PROFILE_GRACEFUL_CLOSE) {
                // force / fast teardown are not advertised (force_teardown = fast_teardown = 0)
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "teardown profile " + profile);
            }
            fw.requireState(HcaState.INITIALIZED);
            fw.eqs.destroyAll(); // whatever the driver left behind dies with the HCA
            fw.uars.reset();
            fw.resources.reset();
            fw.state = HcaState.ENABLED;
            c.out(teardown_hca_out.state, 0);
        });
        fw.register(MLX5_CMD_OP_SET_DRIVER_VERSION, c -> {
            c.requireIn(set_driver_version_in.SIZE_BYTES);
            int off = set_driver_version_in.driver_version.byteOffset();
            int len = 0;
            while (len < set_driver_version_in.driver_version.byteSize() && c.in[off + len] != 0) {
                len++;
            }
            fw.driverVersion = new String(c.in, off, len, StandardCharsets.US_ASCII);
        });
        fw.register(MLX5_CMD_OP_QUERY_ADAPTER, c -> {
            c.requireOut(query_adapter_out.SIZE_BYTES);
            int base = query_adapter_out.query_adapter_struct.byteOffset();
            c.out(base, query_adapter_param_block.ieee_vendor_id, IEEE_VENDOR_ID);
            c.out(base, query_adapter_param_block.vsd_vendor_id, 0x15b3);
            byte[] psid = fw.config.boardId().getBytes(StandardCharsets.US_ASCII);
            c.outBytes(base + query_adapter_param_block.vsd_contd_psid.byteOffset(), psid,
                    Math.min(psid.length, query_adapter_param_block.vsd_contd_psid.byteSize()));
        });
        fw.register(MLX5_CMD_OP_NOP, c -> {
        });
    }
}
