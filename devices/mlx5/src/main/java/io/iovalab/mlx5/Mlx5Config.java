package io.iovalab.mlx5;

/**
 * What {@code --device mlx5:...} configures.
 *
 * @param deviceId   PCI device id under 15b3 (0x1017 ConnectX-5, 0x101b ConnectX-6: PFs in mlx5_core_pci_table)
 * @param vectors    MSI-X vectors (vector 0: command/async EQs; the rest: completion EQs)
 * @param fwMajor    firmware version shown by the driver (fw_rev in the init segment)
 * @param bootPages  pages QUERY_PAGES asks for at boot (op_mod 1)
 * @param initPages  pages QUERY_PAGES asks for before INIT_HCA (op_mod 2)
 * @param boardId    QUERY_ADAPTER's PSID (the driver's board_id), up to 16 ASCII characters
 * @param bar0Size   BAR0 bytes: the init segment in pages 0-2, UAR pages after it
 * @param nodeGuid   the HCA's node GUID; port 1's GUID is nodeGuid + 1
 * @param portState  IB port state (enum ib_port_state): 1 DOWN, 2 INIT, 3 ARMED, 4 ACTIVE
 * @param lid        the port's LID; with no subnet manager it is simply configured (0 = none).
 *                   Loopback RC traffic is addressed to it, so verbs tools need it non-zero.
 */
record Mlx5Config(int deviceId, int vectors, int fwMajor, int fwMinor, int fwSub, int bootPages, int initPages,
                  String boardId, long bar0Size, long nodeGuid, int portState, int lid) {

    static final int PORT_DOWN = 1;
    static final int PORT_ACTIVE = 4;

    static Mlx5Config defaults() {
        return new Mlx5Config(0x1017, 8, 16, 35, 1000, 16, 32, "IOVALAB000000001", 32L << 20, 0x0002c90300000a10L, PORT_ACTIVE, 1);
    }

    /** UAR indices the device can hand out: BAR0 pages after the init segment. */
    int uarPages() {
        return (int) (bar0Size / 4096);
    }
}
