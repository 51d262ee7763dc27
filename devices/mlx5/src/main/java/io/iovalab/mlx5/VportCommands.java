package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.hca_vport_context;
import io.iovalab.mlx5.ifc.Mlx5Ifc.pkey;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_vport_context_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_vport_context_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_vport_gid_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_vport_gid_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_vport_pkey_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_vport_pkey_out;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The HCA vport queries mlx5_ib uses instead of MAD_IFC when ib_virt is set (mlx5_query_hca_port,
 * vport.c): the port's context (state, GUIDs, LIDs, capability mask), its GID table and its
 * P_Key table. Index 0xffff asks for the whole table. We are no vport group manager, so another
 * vport is a parameter error.
 */
final class VportCommands {
    private VportCommands() {
    }

    static final int WHOLE_TABLE = 0xffff;

    static void register(Firmware fw, Port port) {
        fw.register(MLX5_CMD_OP_QUERY_HCA_VPORT_CONTEXT, c -> {
            checkVport(c, query_hca_vport_context_in.other_vport, query_hca_vport_context_in.port_num);
            int b = query_hca_vport_context_out.hca_vport_context.byteOffset();
            c.requireOut(b + hca_vport_context.SIZE_BYTES);
            c.out(b, hca_vport_context.has_smi, 1);
            c.out(b, hca_vport_context.port_physical_state, port.physicalState());
            c.out(b, hca_vport_context.port_state, port.state);
            c.out(b, hca_vport_context.vport_state, port.state);
            c.out(b, hca_vport_context.system_image_guid, port.nodeGuid);
            c.out(b, hca_vport_context.port_guid, port.portGuid);
            c.out(b, hca_vport_context.node_guid, port.nodeGuid);
            c.out(b, hca_vport_context.cap_mask1, Port.CAP_MASK1);
            c.out(b, hca_vport_context.lid, port.lid);
            c.out(b, hca_vport_context.sm_lid, 0);
            c.out(b, hca_vport_context.subnet_timeout, 18);
        });
        fw.register(MLX5_CMD_OP_QUERY_HCA_VPORT_GID, c -> {
            checkVport(c, query_hca_vport_gid_in.other_vport, query_hca_vport_gid_in.port_num);
            int index = (int) c.in(query_hca_vport_gid_in.gid_index);
            int first = index == WHOLE_TABLE ? 0 : index;
            int n = index == WHOLE_TABLE ? Port.GID_TABLE : 1;
            if (first >= Port.GID_TABLE) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "gid_index " + index);
            }
            int base = query_hca_vport_gid_out.gid.byteOffset();
            c.requireOut(base + 16 * n);
            c.out(query_hca_vport_gid_out.gids_num, n);
            for (int i = 0; i < n; i++) {
                c.outBytes(base + 16 * i, port.gid(first + i), 16);
            }
        });
        fw.register(MLX5_CMD_OP_QUERY_HCA_VPORT_PKEY, c -> {
            checkVport(c, query_hca_vport_pkey_in.other_vport, query_hca_vport_pkey_in.port_num);
            int index = (int) c.in(query_hca_vport_pkey_in.pkey_index);
            int first = index == WHOLE_TABLE ? 0 : index;
            int n = index == WHOLE_TABLE ? Port.PKEY_TABLE : 1;
            if (first >= Port.PKEY_TABLE) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "pkey_index " + index);
            }
            int base = query_hca_vport_pkey_out.pkey.byteOffset();
            c.requireOut(base + pkey.SIZE_BYTES * n);
            for (int i = 0; i < n; i++) {
                c.out(base + pkey.SIZE_BYTES * i, pkey.pkey, port.pkey(first + i));
            }
        });
    }

    /** Our own vport only; port_num is 0 on a one-port HCA (the driver sets it only with two ports) or 1. */
    private static void checkVport(Command c, Field otherVport, Field portNum) throws CommandException {
        if (c.in(otherVport) != 0) {
            throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "other_vport: not a group manager");
        }
        long p = c.in(portNum);
        if (p > Port.NUM) {
            throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "port_num " + p);
        }
    }
}
