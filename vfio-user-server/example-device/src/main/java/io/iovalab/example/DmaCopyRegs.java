package io.iovalab.example;

/**
 * BAR0 register map of the DMA-copy engine: 32-bit little-endian registers, any naturally
 * aligned access width (a byte write updates one byte). Unlisted offsets read 0, ignore writes.
 */
public final class DmaCopyRegs {
    public static final int ID = 0x00;          // RO: ID_VALUE
    public static final int VERSION = 0x04;     // RO: VERSION_VALUE
    public static final int SCRATCH = 0x08;     // RW: reads back what was written, nothing else
    public static final int SRC_LO = 0x10;      // RW: source IOVA
    public static final int SRC_HI = 0x14;
    public static final int DST_LO = 0x18;      // RW: destination IOVA
    public static final int DST_HI = 0x1c;
    public static final int LEN = 0x20;         // RW: bytes to copy, at most MAX_LEN
    public static final int CTRL = 0x24;        // RW: GO (self-clearing) | IRQ_ENABLE | MSI-X vector << 8
    public static final int STATUS = 0x28;      // BUSY | DONE | ERROR | fault kind << 8; write 1 clears DONE/ERROR
    public static final int COUNT = 0x2c;       // RO: copies completed since reset
    public static final int FAULT_LO = 0x30;    // RO: first IOVA the IOMMU model refused in the last failed copy
    public static final int FAULT_HI = 0x34;

    public static final int ID_VALUE = 0x41564f49; // "IOVA" as little-endian bytes
    public static final int VERSION_VALUE = 1;

    public static final int CTRL_GO = 1;
    public static final int CTRL_IRQ_ENABLE = 2;
    public static final int CTRL_VECTOR_SHIFT = 8;
    public static final int CTRL_VECTOR_MASK = 0xff;

    public static final int STATUS_BUSY = 1;
    public static final int STATUS_DONE = 2;
    public static final int STATUS_ERROR = 4;
    /** STATUS bits 15:8 after an ERROR: {@code Fault.Kind.ordinal() + 1}, or {@link #KIND_BAD_LENGTH}. */
    public static final int STATUS_KIND_SHIFT = 8;
    public static final int KIND_BAD_LENGTH = 0x80;

    public static final int MAX_LEN = 1 << 20;

    public static final long BAR0_SIZE = 4096;
    /** BAR2: 64-bit prefetchable, trapped; plain memory the guest reads and writes with MMIO. */
    public static final long BAR2_SIZE = 1 << 20;
    /** BAR4: MSI-X table at 0, PBA at 0x800 (64 vectors at most). */
    public static final long BAR4_SIZE = 4096;
    public static final long MSIX_TABLE = 0;
    public static final long MSIX_PBA = 0x800;

    private DmaCopyRegs() {
    }
}
