package io.iovalab.example;

/** BAR0 register map of the DMA-copy engine (32-bit registers). */
public final class DmaCopyRegs {
    public static final int ID = 0x00;          // RO: 'IOVA'
    public static final int VERSION = 0x04;     // RO
    public static final int SCRATCH = 0x08;     // RW: reads back what was written
    public static final int SRC_LO = 0x10;
    public static final int SRC_HI = 0x14;
    public static final int DST_LO = 0x18;
    public static final int DST_HI = 0x1c;
    public static final int LEN = 0x20;         // bytes, at most MAX_LEN
    public static final int CTRL = 0x24;        // GO | IRQ_ENABLE | vector << 8
    public static final int STATUS = 0x28;      // BUSY | DONE | ERROR | fault kind << 8; write 1 clears DONE/ERROR
    public static final int COUNT = 0x2c;       // RO: copies completed
    public static final int FAULT_LO = 0x30;    // RO: first IOVA of the last fault
    public static final int FAULT_HI = 0x34;

    public static final int ID_VALUE = 0x41564f49; // "IOVA" little-endian
    public static final int VERSION_VALUE = 1;
    public static final int CTRL_GO = 1;
    public static final int CTRL_IRQ_ENABLE = 2;
    public static final int STATUS_BUSY = 1;
    public static final int STATUS_DONE = 2;
    public static final int STATUS_ERROR = 4;
    public static final int MAX_LEN = 1 << 20;

    public static final long BAR0_SIZE = 4096;
    public static final long BAR2_SIZE = 1 << 20;
    public static final long BAR4_SIZE = 4096;
    public static final long MSIX_TABLE = 0;
    public static final long MSIX_PBA = 0x800;

    private DmaCopyRegs() {
    }
}
