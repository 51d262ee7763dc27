package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.alloc_pd_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.alloc_transport_domain_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.alloc_xrcd_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.dealloc_pd_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.dealloc_transport_domain_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.dealloc_xrcd_in;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/** ALLOC/DEALLOC of the plain handle objects: PDs, XRC domains, transport domains. */
final class ResourceCommands {
    private ResourceCommands() {
    }

    static void register(Firmware fw) {
        Resources r = fw.resources;
        alloc(fw, MLX5_CMD_OP_ALLOC_PD, r.pds, alloc_pd_out.pd, "PD");
        dealloc(fw, MLX5_CMD_OP_DEALLOC_PD, r.pds, dealloc_pd_in.pd, "PD");
        alloc(fw, MLX5_CMD_OP_ALLOC_XRCD, r.xrcds, alloc_xrcd_out.xrcd, "XRCD");
        dealloc(fw, MLX5_CMD_OP_DEALLOC_XRCD, r.xrcds, dealloc_xrcd_in.xrcd, "XRCD");
        alloc(fw, MLX5_CMD_OP_ALLOC_TRANSPORT_DOMAIN, r.transportDomains, alloc_transport_domain_out.transport_domain,
                "transport domain");
        dealloc(fw, MLX5_CMD_OP_DEALLOC_TRANSPORT_DOMAIN, r.transportDomains, dealloc_transport_domain_in.transport_domain,
                "transport domain");
    }

    private static void alloc(Firmware fw, int opcode, Resources.Handles<Integer> space, Field out, String what) {
        fw.register(opcode, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int uid = c.uid();
            int n = space.add(k -> uid);
            if (n < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no " + what + " left");
            }
            c.out(out, n);
        });
    }

    private static void dealloc(Firmware fw, int opcode, Resources.Handles<Integer> space, Field in, String what) {
        fw.register(opcode, c -> {
            int n = (int) c.in(in);
            if (space.remove(n) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, what + " " + n + " does not exist");
            }
        });
    }
}
