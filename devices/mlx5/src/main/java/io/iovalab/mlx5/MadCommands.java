package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.mad_ifc_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mad_ifc_out;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_CMD_OP_MAD_IFC;
import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_CMD_STAT_BAD_PARAM_ERR;

/**
 * MAD_IFC: the firmware's subnet management agent. With ib_virt the driver takes port data from
 * the vport queries, and the only MAD it still sends is the vendor ExtendedPortInfo probe
 * (mlx5_query_ext_port_caps). Our agent implements no SMP attribute: it answers every MAD as
 * an agent does for what it does not support — a GetResp with MAD status "unsupported method/
 * attribute combination" — so the command succeeds and the MAD carries the refusal, which the
 * driver reads as "no extended port info".
 */
final class MadCommands {
    private MadCommands() {
    }

    static final int MAD_SIZE = 256;
    static final int METHOD = 3;
    static final int STATUS = 4;
    /** Response bit of the method byte (IB_MGMT_METHOD_RESP). */
    static final int METHOD_RESP = 0x80;
    /** MAD status: method/attribute combination not supported (IB_MGMT_MAD_STATUS_UNSUPPORTED_METHOD_ATTRIB). */
    static final int UNSUPPORTED_METHOD_ATTRIB = 0x000c;

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_MAD_IFC, c -> {
            int in = mad_ifc_in.mad.byteOffset();
            int out = mad_ifc_out.response_mad_packet.byteOffset();
            c.requireIn(in + MAD_SIZE);
            c.requireOut(out + MAD_SIZE);
            long port = c.in(mad_ifc_in.port);
            if (port != Port.NUM) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "port " + port);
            }
            byte[] mad = new byte[MAD_SIZE];
            System.arraycopy(c.in, in, mad, 0, MAD_SIZE);
            mad[METHOD] = (byte) (mad[METHOD] | METHOD_RESP);
            mad[STATUS] = (byte) (UNSUPPORTED_METHOD_ATTRIB >>> 8);
            mad[STATUS + 1] = (byte) UNSUPPORTED_METHOD_ATTRIB;
            c.outBytes(out, mad, MAD_SIZE);
        });
    }
}
