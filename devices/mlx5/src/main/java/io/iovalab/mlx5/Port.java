package io.iovalab.mlx5;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The one InfiniBand port, as the vport queries and port registers describe it. There is no
 * link partner and no subnet manager: the port sits in the configured state (ACTIVE by default,
 * so verbs programs can connect QPs of this device to each other), with the configured LID
 * standing in for one an SM would assign, one P_Key (the default full membership 0xffff) and one
 * GID (the link-local fe80::/64 + port GUID). A packet to our own LID loops back inside the
 * device; one to any other LID has nowhere to go.
 */
final class Port {
    static final int NUM = 1;
    /** enum ib_port_phys_state: 2 POLLING (no cable partner), 5 LINK_UP. */
    static final int PHYS_POLLING = 2;
    static final int PHYS_LINK_UP = 5;
    static final int GID_TABLE = 8;    // gid_table_size 0
    static final int PKEY_TABLE = 128; // pkey_table_size 0
    static final int MTU = 4096;
    /** IB port capability mask (enum ib_port_capability_mask_bits): CM, system image GUID, client registration. */
    static final int CAP_MASK1 = 1 << 16 | 1 << 11 | 1 << 25;
    /** ptys ib_proto_* bit for EDR (enum ib_port_speed IB_SPEED_EDR = 32): what the port would train to. */
    static final int PROTO_EDR = 32;

    final long nodeGuid;
    final long portGuid;
    final int state;
    final int lid;

    Port(Mlx5Config config) {
        this.nodeGuid = config.nodeGuid();
        this.portGuid = config.nodeGuid() + 1;
        this.state = config.portState();
        // a port that is down has no LID (an SM assigns one only once the link is up)
        this.lid = config.portState() == Mlx5Config.PORT_DOWN ? 0 : config.lid();
    }

    int physicalState() {
        return state == Mlx5Config.PORT_DOWN ? PHYS_POLLING : PHYS_LINK_UP;
    }

    int linkWidth() {
        return MLX5_PTYS_WIDTH_4X;
    }

    /** GID {@code index}: 16 bytes, big-endian. */
    byte[] gid(int index) {
        byte[] g = new byte[16];
        if (index == 0) {
            g[0] = (byte) 0xfe;
            g[1] = (byte) 0x80;
            for (int i = 0; i < 8; i++) {
                g[8 + i] = (byte) (portGuid >>> (56 - 8 * i));
            }
        }
        return g;
    }

    int pkey(int index) {
        return index == 0 ? 0xffff : 0;
    }
}
