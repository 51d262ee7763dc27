package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.access_register_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.access_register_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.pmtu_reg;
import io.iovalab.mlx5.ifc.Mlx5Ifc.ptys_reg;
import io.iovalab.mlx5.ifc.Mlx5Ifc.pvlc_reg;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * ACCESS_REG: op_mod 0 writes, 1 reads the register named by register_id; the register's bytes
 * follow the 16-byte header in both directions. Only the registers the drivers touch with our
 * caps exist: HOST_ENDIANNESS (written once by mlx5_core on a PF, set_hca_ctrl), and for
 * mlx5_ib's port query the port registers PTYS, PMTU, PVLC and NODE_DESC, which are read-only
 * here (the port's speed, width and MTU are not negotiable without a link). Any other id is a
 * parameter error whose syndrome carries the id.
 */
final class RegisterCommands {
    private RegisterCommands() {
    }

    static final int WRITE = 0;
    static final int READ = 1;
    /** struct mlx5_reg_host_endianness (driver.h): he, then 15 reserved bytes. */
    static final int HOST_ENDIANNESS_SIZE = 16;
    /** struct mlx5_reg_node_desc (driver.h): 64 bytes of text. */
    static final int NODE_DESC_SIZE = 64;
    static final String NODE_DESC = "iovalab mlx5 HCA";

    /** Register sizes; a register not here does not exist. */
    static final Map<Integer, Integer> SIZES = Map.of(
            MLX5_REG_HOST_ENDIANNESS, HOST_ENDIANNESS_SIZE,
            MLX5_REG_PTYS, ptys_reg.SIZE_BYTES,
            MLX5_REG_PMTU, pmtu_reg.SIZE_BYTES,
            MLX5_REG_PVLC, pvlc_reg.SIZE_BYTES,
            MLX5_REG_NODE_DESC, NODE_DESC_SIZE);

    static void register(Firmware fw, Port port) {
        fw.register(MLX5_CMD_OP_ACCESS_REG, c -> {
            int id = (int) c.in(access_register_in.register_id);
            Integer size = SIZES.get(id);
            if (size == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNKNOWN_REGISTER | id,
                        "register 0x" + Integer.toHexString(id));
            }
            int inBase = access_register_in.register_data.byteOffset();
            int outBase = access_register_out.register_data.byteOffset();
            switch (c.opMod()) {
                case WRITE -> {
                    if (id != MLX5_REG_HOST_ENDIANNESS) {
                        throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNKNOWN_REGISTER | id,
                                "register 0x" + Integer.toHexString(id) + " is read-only here");
                    }
                    c.requireIn(inBase + size);
                    byte[] value = new byte[size];
                    System.arraycopy(c.in, inBase, value, 0, size);
                    fw.registers.put(id, value);
                }
                case READ -> {
                    c.requireOut(outBase + size);
                    byte[] in = new byte[size];
                    System.arraycopy(c.in, inBase, in, 0, Math.max(0, Math.min(size, c.in.length - inBase)));
                    c.outBytes(outBase, read(fw, port, id, size, in), size);
                }
                default -> throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.UNSUPPORTED_OP_MOD | c.opMod(),
                        "ACCESS_REG op_mod");
            }
        });
    }

    /** The register's contents; {@code in} is what the driver put in (the index fields, e.g. local_port). */
    private static byte[] read(Firmware fw, Port port, int id, int size, byte[] in) throws CommandException {
        byte[] r = new byte[size];
        if (id == MLX5_REG_HOST_ENDIANNESS) {
            byte[] v = fw.registers.get(id);
            return v == null ? r : v.clone();
        }
        if (id == MLX5_REG_NODE_DESC) {
            byte[] text = NODE_DESC.getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(text, 0, r, 0, text.length);
            return r;
        }
        // port registers: indexed by local_port (at the same place in all three)
        long local = ptys_reg.local_port.get(in, 0);
        if (local != Port.NUM) {
            throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "local_port " + local);
        }
        if (id == MLX5_REG_PTYS) {
            long mask = ptys_reg.proto_mask.get(in, 0);
            if (mask != MLX5_PTYS_IB) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "PTYS proto_mask " + mask + ": IB port");
            }
            ptys_reg.local_port.set(r, 0, local);
            ptys_reg.proto_mask.set(r, 0, mask);
            ptys_reg.ib_link_width_capability.set(r, 0, port.linkWidth());
            ptys_reg.ib_proto_capability.set(r, 0, Port.PROTO_EDR);
            ptys_reg.ib_link_width_admin.set(r, 0, port.linkWidth());
            ptys_reg.ib_proto_admin.set(r, 0, Port.PROTO_EDR);
            ptys_reg.ib_link_width_oper.set(r, 0, port.linkWidth());
            ptys_reg.ib_proto_oper.set(r, 0, Port.PROTO_EDR);
        } else if (id == MLX5_REG_PMTU) {
            pmtu_reg.local_port.set(r, 0, local);
            pmtu_reg.max_mtu.set(r, 0, Port.MTU);
            pmtu_reg.admin_mtu.set(r, 0, Port.MTU);
            pmtu_reg.oper_mtu.set(r, 0, Port.MTU);
        } else if (id == MLX5_REG_PVLC) {
            pvlc_reg.local_port.set(r, 0, local);
            pvlc_reg.vl_hw_cap.set(r, 0, MLX5_VL_HW_0_7);
            pvlc_reg.vl_admin.set(r, 0, MLX5_VL_HW_0_7);
            pvlc_reg.vl_operational.set(r, 0, MLX5_VL_HW_0_7);
        }
        return r;
    }
}
