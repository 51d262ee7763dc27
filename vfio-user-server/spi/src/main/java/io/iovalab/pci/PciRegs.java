package io.iovalab.pci;

/** Config-space offsets and bits, named as in the PCI specs (and Linux's pci_regs.h). */
public final class PciRegs {
    public static final int PCI_VENDOR_ID = 0x00;
    public static final int PCI_DEVICE_ID = 0x02;
    public static final int PCI_COMMAND = 0x04;
    public static final int PCI_COMMAND_IO = 0x1;
    public static final int PCI_COMMAND_MEMORY = 0x2;
    public static final int PCI_COMMAND_MASTER = 0x4;
    public static final int PCI_COMMAND_PARITY = 0x40;
    public static final int PCI_COMMAND_SERR = 0x100;
    public static final int PCI_COMMAND_INTX_DISABLE = 0x400;
    public static final int PCI_STATUS = 0x06;
    public static final int PCI_STATUS_INTERRUPT = 0x08;
    public static final int PCI_STATUS_CAP_LIST = 0x10;
    /** Status bits that are write-1-to-clear: parity, signalled/received aborts, SERR, parity error */
    public static final int PCI_STATUS_RW1C = 0xf900;
    public static final int PCI_REVISION_ID = 0x08;
    public static final int PCI_CLASS_PROG = 0x09;
    public static final int PCI_CLASS_DEVICE = 0x0a;
    public static final int PCI_CACHE_LINE_SIZE = 0x0c;
    public static final int PCI_LATENCY_TIMER = 0x0d;
    public static final int PCI_HEADER_TYPE = 0x0e;
    public static final int PCI_BIST = 0x0f;
    public static final int PCI_BASE_ADDRESS_0 = 0x10;
    public static final int PCI_BASE_ADDRESS_SPACE_IO = 0x1;
    public static final int PCI_BASE_ADDRESS_MEM_TYPE_64 = 0x4;
    public static final int PCI_BASE_ADDRESS_MEM_PREFETCH = 0x8;
    public static final int PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
    public static final int PCI_SUBSYSTEM_ID = 0x2e;
    public static final int PCI_ROM_ADDRESS = 0x30;
    public static final int PCI_CAPABILITY_LIST = 0x34;
    public static final int PCI_INTERRUPT_LINE = 0x3c;
    public static final int PCI_INTERRUPT_PIN = 0x3d;

    public static final int PCI_CAP_ID_PM = 0x01;
    public static final int PCI_CAP_ID_MSI = 0x05;
    public static final int PCI_CAP_ID_EXP = 0x10;
    public static final int PCI_CAP_ID_MSIX = 0x11;
    public static final int PCI_CAP_LIST_NEXT = 1;

    // Power Management capability
    public static final int PCI_PM_PMC = 2;
    public static final int PCI_PM_CTRL = 4;
    public static final int PCI_PM_CTRL_STATE_MASK = 0x3;
    public static final int PCI_PM_CTRL_NO_SOFT_RESET = 0x8;
    public static final int PCI_PM_SIZEOF = 8;
    public static final int PCI_D0 = 0;
    public static final int PCI_D3HOT = 3;

    // MSI capability
    public static final int PCI_MSI_FLAGS = 2;
    public static final int PCI_MSI_FLAGS_ENABLE = 0x1;
    public static final int PCI_MSI_FLAGS_QMASK = 0x0e;
    public static final int PCI_MSI_FLAGS_QSIZE = 0x70;
    public static final int PCI_MSI_FLAGS_64BIT = 0x80;
    public static final int PCI_MSI_FLAGS_MASKBIT = 0x100;
    public static final int PCI_MSI_ADDRESS_LO = 4;
    public static final int PCI_MSI_ADDRESS_HI = 8;
    public static final int PCI_MSI_DATA_32 = 8;
    public static final int PCI_MSI_MASK_32 = 12;
    public static final int PCI_MSI_PENDING_32 = 16;
    public static final int PCI_MSI_DATA_64 = 12;
    public static final int PCI_MSI_MASK_64 = 16;
    public static final int PCI_MSI_PENDING_64 = 20;

    // MSI-X capability and table
    public static final int PCI_MSIX_FLAGS = 2;
    public static final int PCI_MSIX_FLAGS_QSIZE = 0x07ff;
    public static final int PCI_MSIX_FLAGS_ENABLE = 0x8000;
    public static final int PCI_MSIX_FLAGS_MASKALL = 0x4000;
    public static final int PCI_MSIX_TABLE = 4;
    public static final int PCI_MSIX_PBA = 8;
    public static final int PCI_MSIX_FLAGS_BIRMASK = 0x7;
    public static final int PCI_CAP_MSIX_SIZEOF = 12;
    public static final int PCI_MSIX_ENTRY_SIZE = 16;
    public static final int PCI_MSIX_ENTRY_VECTOR_CTRL = 12;
    public static final int PCI_MSIX_ENTRY_CTRL_MASKBIT = 0x1;

    // PCI Express capability
    public static final int PCI_EXP_FLAGS = 2;
    public static final int PCI_EXP_FLAGS_VERS = 0x000f;
    public static final int PCI_EXP_FLAGS_TYPE = 0x00f0;
    public static final int PCI_EXP_TYPE_ENDPOINT = 0x0;
    public static final int PCI_EXP_DEVCAP = 4;
    public static final int PCI_EXP_DEVCAP_RBER = 0x8000;
    public static final int PCI_EXP_DEVCAP_FLR = 1 << 28;
    public static final int PCI_EXP_DEVCTL = 8;
    public static final int PCI_EXP_DEVCTL_RELAX_EN = 0x0010;
    public static final int PCI_EXP_DEVCTL_NOSNOOP_EN = 0x0800;
    public static final int PCI_EXP_DEVCTL_READRQ_512B = 0x2000;
    public static final int PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
    public static final int PCI_EXP_DEVSTA = 10;
    public static final int PCI_EXP_LNKCAP = 0x0c;
    public static final int PCI_EXP_LNKCAP_SLS_2_5GB = 0x1;
    public static final int PCI_EXP_LNKCAP_MLW_X1 = 0x10;
    public static final int PCI_EXP_LNKCTL = 0x10;
    public static final int PCI_EXP_LNKSTA = 0x12;
    public static final int PCI_EXP_LNKSTA_CLS_2_5GB = 0x1;
    public static final int PCI_EXP_LNKSTA_NLW_X1 = 0x10;
    public static final int PCI_EXP_DEVCAP2 = 0x24;
    public static final int PCI_EXP_DEVCTL2 = 0x28;
    public static final int PCI_EXP_LNKCAP2 = 0x2c;
    public static final int PCI_EXP_LNKCAP2_SLS_2_5GB = 0x2;
    public static final int PCI_EXP_LNKCTL2 = 0x30;
    public static final int PCI_EXP_LNKCTL2_TLS_2_5GT = 0x1;
    public static final int PCI_EXP_LNKSTA2 = 0x32;
    public static final int PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 0x3c;

    // extended capabilities (PCIe config space above 0x100)
    public static final int PCI_EXT_CAP_ID_DSN = 0x0003;
    public static final int PCI_CFG_SPACE_SIZE = 256;
    public static final int PCI_CFG_SPACE_EXP_SIZE = 4096;

    private PciRegs() {
    }

    /** Capability ID of an extended capability header. */
    public static int extCapId(int header) {
        return header & 0xffff;
    }

    public static int extCapVersion(int header) {
        return (header >>> 16) & 0xf;
    }

    public static int extCapNext(int header) {
        return (header >>> 20) & 0xffc;
    }
}
