package io.iovalab.nvme;

/** Controller registers (NVMe base specification, section 3.1), offsets in BAR0. */
final class NvmeRegs {
    static final int CAP = 0x00;
    static final int VS = 0x08;
    static final int INTMS = 0x0c;
    static final int INTMC = 0x10;
    static final int CC = 0x14;
    static final int CSTS = 0x1c;
    static final int NSSR = 0x20;
    static final int AQA = 0x24;
    static final int ASQ = 0x28;
    static final int ACQ = 0x30;
    static final int DOORBELLS = 0x1000;

    static final int CC_EN = 1;
    static final int CC_SHN_SHIFT = 14;
    static final int CSTS_RDY = 1;
    static final int CSTS_CFS = 2;
    static final int CSTS_SHST_COMPLETE = 2 << 2;

    static final int VS_1_4 = 0x00010400;

    private NvmeRegs() {
    }
}
