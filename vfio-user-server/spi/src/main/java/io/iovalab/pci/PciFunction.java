package io.iovalab.pci;

import java.util.ArrayList;
import java.util.List;

import static io.iovalab.pci.PciRegs.*;

/**
 * One PCI function: type-0 config space, BARs, capabilities and interrupts. Devices build it with
 * {@link #builder()}; the server forwards config and BAR accesses to it.
 *
 * <p>Config space and interrupt state share one lock: the message thread writes config while
 * device threads raise interrupts that depend on it (MSI-X enable, function mask, INTx disable).
 */
public final class PciFunction {
    final Object lock = new Object();
    final ConfigSpace config;
    private final Bar[] bars;
    final int interruptPin;
    final int msiCap;
    final int msiVectors;
    final boolean msiPerVectorMask;
    final int msixCap;
    final int msixVectors;
    final int msixTableBar;
    final long msixTableOffset;
    final int msixPbaBar;
    final long msixPbaOffset;
    private final int pcieCap;
    private final List<Capability> capabilities;
    private final InterruptController interrupts;
    private volatile PciListener listener = new PciListener() {
        @Override
        public void busMasterChanged(boolean enabled) {
        }

        @Override
        public void functionLevelReset() {
        }
    };

    private PciFunction(Builder b, ConfigSpace config, List<Capability> caps, int msiCap, int msixCap, int pcieCap) {
        this.config = config;
        this.bars = b.bars.clone();
        this.interruptPin = b.interruptPin;
        this.msiCap = msiCap;
        this.msiVectors = b.msiVectors;
        this.msiPerVectorMask = b.msiPerVectorMask;
        this.msixCap = msixCap;
        this.msixVectors = b.msixVectors;
        this.msixTableBar = b.msixTableBar;
        this.msixTableOffset = b.msixTableOffset;
        this.msixPbaBar = b.msixPbaBar;
        this.msixPbaOffset = b.msixPbaOffset;
        this.pcieCap = pcieCap;
        this.capabilities = List.copyOf(caps);
        this.interrupts = new InterruptController(this);
    }

    public static Builder builder() {
        return new Builder();
    }

    // ---------------- device-facing ----------------

    public Interrupts interrupts() {
        return interrupts;
    }

    public boolean busMasterEnabled() {
        synchronized (lock) {
            return (config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
        }
    }

    public boolean memorySpaceEnabled() {
        synchronized (lock) {
            return (config.get16(PCI_COMMAND) & PCI_COMMAND_MEMORY) != 0;
        }
    }

    public Bar bar(int index) {
        return index >= 0 && index < 6 ? bars[index] : null;
    }

    /** Capabilities as laid out, for tests and inspection. */
    public List<Capability> capabilities() {
        return capabilities;
    }

    // ---------------- server-facing ----------------

    public int configSize() {
        return config.size();
    }

    public void setListener(PciListener l) {
        listener = l;
    }

    public void configRead(long offset, byte[] dst, int dstOffset, int count) {
        checkConfig(offset, count);
        synchronized (lock) {
            System.arraycopy(config.data, (int) offset, dst, dstOffset, count);
        }
    }

    public void configWrite(long offset, byte[] src, int srcOffset, int count) {
        checkConfig(offset, count);
        int off = (int) offset;
        boolean masterBefore;
        boolean masterAfter;
        boolean flr = false;
        boolean msixBefore;
        boolean msixAfter;
        boolean msixMaskAfter = false;
        synchronized (lock) {
            masterBefore = (config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
            msixBefore = msixControlBits() != 0 && (msixControlBits() & PCI_MSIX_FLAGS_ENABLE) != 0;
            boolean msixMaskBefore = (msixControlBits() & PCI_MSIX_FLAGS_MASKALL) != 0;
            config.write(off, src, srcOffset, count);
            if (pcieCap != 0 && overlaps(off, count, pcieCap + PCI_EXP_DEVCTL + 1, 1)
                    && (config.get16(pcieCap + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_BCR_FLR) != 0) {
                // "Initiate FLR" always reads back 0; the reset itself happens below, outside the lock
                config.set16(pcieCap + PCI_EXP_DEVCTL, config.get16(pcieCap + PCI_EXP_DEVCTL) & ~PCI_EXP_DEVCTL_BCR_FLR);
                flr = true;
            }
            masterAfter = (config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
            int ctl = msixControlBits();
            msixAfter = (ctl & PCI_MSIX_FLAGS_ENABLE) != 0;
            msixMaskAfter = (ctl & PCI_MSIX_FLAGS_MASKALL) != 0;
            if (msixAfter && !msixMaskAfter && (msixMaskBefore || !msixBefore)) {
                interrupts.deliverPendingLocked();
            }
            if ((config.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) != 0) {
                interrupts.intxDisabledLocked();
            }
        }
        if (masterBefore != masterAfter) {
            listener.busMasterChanged(masterAfter);
        }
        if (msixBefore != msixAfter) {
            listener.msixEnableChanged(msixAfter, msixMaskAfter);
        }
        if (flr) {
            listener.functionLevelReset();
        }
    }

    private int msixControlBits() {
        return msixCap == 0 ? 0 : config.get16(msixCap + PCI_MSIX_FLAGS);
    }

    boolean msixEnabledLocked() {
        return (msixControlBits() & PCI_MSIX_FLAGS_ENABLE) != 0;
    }

    boolean msixMaskedLocked() {
        return (msixControlBits() & PCI_MSIX_FLAGS_MASKALL) != 0;
    }

    boolean msiEnabledLocked() {
        return msiCap != 0 && (config.get16(msiCap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) != 0;
    }

    /** Vectors the guest enabled with Multiple Message Enable. */
    int msiEnabledVectorsLocked() {
        return 1 << ((config.get16(msiCap + PCI_MSI_FLAGS) >> 4) & 7);
    }

    boolean msiVectorMaskedLocked(int vector) {
        if (!msiPerVectorMask) {
            return false;
        }
        int maskOff = msiCap + 0x10; // 64-bit layout: mask bits at +0x10
        return (config.get32(maskOff) & (1 << vector)) != 0;
    }

    boolean intxDisabledLocked() {
        return (config.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) != 0;
    }

    void setInterruptStatusLocked(boolean on) {
        int st = config.get16(PCI_STATUS);
        config.set16(PCI_STATUS, on ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT);
    }

    /** BAR read; the MSI-X table and PBA are served here, the rest by the device's handler. */
    public long regionRead(int barIndex, long offset, int width) {
        Bar bar = checkBar(barIndex, offset, width);
        if (!decodeEnabled(bar)) {
            return width == 8 ? -1L : (1L << (8 * width)) - 1;
        }
        if (msixCap != 0) {
            if (barIndex == msixTableBar && inside(offset, width, msixTableOffset, 16L * msixVectors)) {
                return interrupts.tableRead(offset - msixTableOffset, width);
            }
            if (barIndex == msixPbaBar && inside(offset, width, msixPbaOffset, pbaSize())) {
                return interrupts.pbaRead(offset - msixPbaOffset, width);
            }
        }
        if (inMmapArea(bar, offset, width)) {
            return sharedRead(bar, offset, width);
        }
        return bar.handler().read(offset, width);
    }

    public void regionWrite(int barIndex, long offset, int width, long value) {
        Bar bar = checkBar(barIndex, offset, width);
        if (!decodeEnabled(bar)) {
            return;
        }
        if (msixCap != 0) {
            if (barIndex == msixTableBar && inside(offset, width, msixTableOffset, 16L * msixVectors)) {
                interrupts.tableWrite(offset - msixTableOffset, width, value);
                return;
            }
            if (barIndex == msixPbaBar && inside(offset, width, msixPbaOffset, pbaSize())) {
                return; // the PBA is read-only
            }
        }
        if (inMmapArea(bar, offset, width)) {
            sharedWrite(bar, offset, width, value);
            return;
        }
        bar.handler().write(offset, width, value);
    }

    long pbaSize() {
        return 8L * ((msixVectors + 63) / 64);
    }

    private static boolean inMmapArea(Bar bar, long offset, int width) {
        for (MmapArea a : bar.mmapAreas()) {
            if (offset >= a.offset() && offset + width <= a.offset() + a.size()) {
                return true;
            }
        }
        return false;
    }

    private static long sharedRead(Bar bar, long offset, int width) {
        var seg = bar.shared().segment();
        long v = 0;
        for (int i = 0; i < width; i++) {
            v |= (seg.get(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i) & 0xffL) << (8 * i);
        }
        return v;
    }

    private static void sharedWrite(Bar bar, long offset, int width, long value) {
        var seg = bar.shared().segment();
        for (int i = 0; i < width; i++) {
            seg.set(java.lang.foreign.ValueLayout.JAVA_BYTE, offset + i, (byte) (value >> (8 * i)));
        }
    }

    private boolean decodeEnabled(Bar bar) {
        int cmd;
        synchronized (lock) {
            cmd = config.get16(PCI_COMMAND);
        }
        return (cmd & (bar.type() == Bar.Type.IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) != 0;
    }

    private Bar checkBar(int index, long offset, int width) {
        Bar bar = bar(index);
        if (bar == null) {
            throw new IllegalArgumentException("BAR" + index + " does not exist");
        }
        if (width != 1 && width != 2 && width != 4 && width != 8) {
            throw new IllegalArgumentException("access width " + width + " (1, 2, 4 or 8)");
        }
        if (offset < 0 || offset + width > bar.size()) {
            throw new IllegalArgumentException("BAR" + index + " access at 0x" + Long.toHexString(offset) + "+" + width
                    + " beyond its size 0x" + Long.toHexString(bar.size()));
        }
        return bar;
    }

    private void checkConfig(long offset, int count) {
        if (offset < 0 || count < 0 || offset + count > config.size()) {
            throw new IllegalArgumentException("config access at 0x" + Long.toHexString(offset) + "+" + count
                    + " beyond its size 0x" + Integer.toHexString(config.size()));
        }
    }

    private static boolean inside(long off, int width, long start, long size) {
        return off >= start && off + width <= start + size;
    }

    private static boolean overlaps(int off, int count, int start, int size) {
        return off < start + size && start < off + count;
    }

    /** GET_IRQ_INFO counts per VFIO irq index. */
    public int irqCount(int irqIndex) {
        return switch (irqIndex) {
            case IrqIndex.VFIO_PCI_INTX_IRQ_INDEX -> interruptPin != 0 ? 1 : 0;
            case IrqIndex.VFIO_PCI_MSI_IRQ_INDEX -> msiVectors;
            case IrqIndex.VFIO_PCI_MSIX_IRQ_INDEX -> msixVectors;
            case IrqIndex.VFIO_PCI_ERR_IRQ_INDEX -> pcieCap != 0 ? 1 : 0;
            case IrqIndex.VFIO_PCI_REQ_IRQ_INDEX -> 1;
            default -> 0;
        };
    }

    /** Power-on state for DEVICE_RESET, FLR and a departed client. Sinks stay with the server. */
    public void resetConfig() {
        boolean wasMaster;
        synchronized (lock) {
            wasMaster = (config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
            config.reset();
            interrupts.resetLocked();
        }
        if (wasMaster) {
            listener.busMasterChanged(false);
        }
    }

    // ---------------- builder ----------------

    public static final class Builder {
        private int vendorId = 0xffff;
        private int deviceId = 0xffff;
        private int subVendor;
        private int subId;
        private int classCode;
        private int revision;
        private int interruptPin;
        private final Bar[] bars = new Bar[6];
        private boolean pm;
        private int msiVectors;
        private boolean msiPerVectorMask;
        private int msixVectors;
        private int msixTableBar;
        private long msixTableOffset;
        private int msixPbaBar;
        private long msixPbaOffset;
        private boolean pcie;
        private boolean flr;
        private final List<byte[]> extCapBodies = new ArrayList<>();
        private final List<int[]> extCapIds = new ArrayList<>();

        public Builder vendorId(int id) {
            vendorId = id & 0xffff;
            return this;
        }

        public Builder deviceId(int id) {
            deviceId = id & 0xffff;
            return this;
        }

        public Builder subsystem(int vendor, int id) {
            subVendor = vendor & 0xffff;
            subId = id & 0xffff;
            return this;
        }

        public Builder classCode(int baseClass, int subClass, int progIf) {
            classCode = (baseClass & 0xff) << 16 | (subClass & 0xff) << 8 | (progIf & 0xff);
            return this;
        }

        public Builder revision(int rev) {
            revision = rev & 0xff;
            return this;
        }

        public Builder interruptPin(int pin) {
            if (pin < 0 || pin > 4) {
                throw new IllegalArgumentException("interrupt pin " + pin + " (0 none, 1-4 INTA-INTD)");
            }
            interruptPin = pin;
            return this;
        }

        public Builder bar(int index, Bar bar) {
            if (index < 0 || index > 5) {
                throw new IllegalArgumentException("BAR index " + index);
            }
            if (bar.type() == Bar.Type.MEMORY64 && index == 5) {
                throw new IllegalArgumentException("a 64-bit BAR needs two registers; BAR5 has no partner");
            }
            if (bars[index] != null || (index > 0 && bars[index - 1] != null && bars[index - 1].type() == Bar.Type.MEMORY64)) {
                throw new IllegalArgumentException("BAR" + index + " is already taken");
            }
            if (bar.type() == Bar.Type.MEMORY64 && bars[index + 1] != null) {
                throw new IllegalArgumentException("BAR" + (index + 1) + " is needed for the upper half of 64-bit BAR" + index);
            }
            bars[index] = bar;
            return this;
        }

        public Builder powerManagement() {
            pm = true;
            return this;
        }

        public Builder msi(int vectors, boolean perVectorMasking) {
            if (vectors < 1 || vectors > 32 || Integer.bitCount(vectors) != 1) {
                throw new IllegalArgumentException("MSI vectors must be a power of two 1..32, got " + vectors);
            }
            msiVectors = vectors;
            msiPerVectorMask = perVectorMasking;
            return this;
        }

        public Builder msix(int vectors, int tableBar, long tableOffset, int pbaBar, long pbaOffset) {
            if (vectors < 1 || vectors > 2048) {
                throw new IllegalArgumentException("MSI-X vectors must be 1..2048, got " + vectors);
            }
            if (((tableOffset | pbaOffset) & 7) != 0) {
                throw new IllegalArgumentException("MSI-X table and PBA offsets must be 8-byte aligned");
            }
            msixVectors = vectors;
            msixTableBar = tableBar;
            msixTableOffset = tableOffset;
            msixPbaBar = pbaBar;
            msixPbaOffset = pbaOffset;
            return this;
        }

        public Builder pcieEndpoint(boolean functionLevelReset) {
            pcie = true;
            flr = functionLevelReset;
            return this;
        }

        public Builder extendedCapability(int capId, int version, byte[] body) {
            if ((body.length & 3) != 0) {
                throw new IllegalArgumentException("extended capability body must be a multiple of 4 bytes");
            }
            extCapIds.add(new int[] {capId & 0xffff, version & 0xf});
            extCapBodies.add(body.clone());
            return this;
        }

        public PciFunction build() {
            if (!extCapIds.isEmpty() && !pcie) {
                throw new IllegalArgumentException("extended capabilities need a PCI Express capability");
            }
            for (int i = 0; i < 6; i++) {
                if (bars[i] != null && bars[i].type() == Bar.Type.MEMORY64 && i + 1 < 6 && bars[i + 1] != null) {
                    throw new IllegalArgumentException("BAR" + (i + 1) + " overlaps 64-bit BAR" + i);
                }
            }
            if (msixVectors > 0) {
                checkMsixPlace("table", msixTableBar, msixTableOffset, 16L * msixVectors);
                checkMsixPlace("PBA", msixPbaBar, msixPbaOffset, 8L * ((msixVectors + 63) / 64));
                if (msixTableBar == msixPbaBar && msixTableOffset < msixPbaOffset + 8L * ((msixVectors + 63) / 64)
                        && msixPbaOffset < msixTableOffset + 16L * msixVectors) {
                    throw new IllegalArgumentException("MSI-X table and PBA overlap");
                }
            }
            ConfigSpace cs = new ConfigSpace(pcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE);
            cs.set16(PCI_VENDOR_ID, vendorId);
            cs.set16(PCI_DEVICE_ID, deviceId);
            cs.writableMask(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
                    | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
            cs.w1cMask(PCI_STATUS, 2, PCI_STATUS_RW1C);
            cs.set8(PCI_REVISION_ID, revision);
            cs.set8(PCI_CLASS_PROG, classCode);
            cs.set16(PCI_CLASS_PROG + 1, classCode >> 8);
            cs.writableMask(PCI_CACHE_LINE_SIZE, 2, 0xffff);
            cs.set16(PCI_SUBSYSTEM_VENDOR_ID, subVendor);
            cs.set16(PCI_SUBSYSTEM_ID, subId);
            cs.writableMask(PCI_INTERRUPT_LINE, 1, 0xff);
            cs.set8(PCI_INTERRUPT_PIN, interruptPin);
            for (int i = 0; i < 6; i++) {
                Bar bar = bars[i];
                if (bar == null) {
                    continue;
                }
                int reg = PCI_BASE_ADDRESS_0 + 4 * i;
                long sizeMask = ~(bar.size() - 1);
                switch (bar.type()) {
                    case IO -> {
                        cs.set32(reg, PCI_BASE_ADDRESS_SPACE_IO);
                        cs.writableMask(reg, 4, sizeMask & 0xfffffffcL);
                    }
                    case MEMORY32 -> {
                        cs.set32(reg, bar.prefetchable() ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
                        cs.writableMask(reg, 4, sizeMask & 0xfffffff0L);
                    }
                    case MEMORY64 -> {
                        cs.set32(reg, PCI_BASE_ADDRESS_MEM_TYPE_64 | (bar.prefetchable() ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0));
                        cs.writableMask(reg, 4, sizeMask & 0xfffffff0L);
                        cs.writableMask(reg + 4, 4, (sizeMask >>> 32) & 0xffffffffL);
                    }
                }
            }
            List<Capability> caps = new ArrayList<>();
            int next = 0x40;
            int msiAt = 0;
            int msixAt = 0;
            int pcieAt = 0;
            if (pm) {
                caps.add(new Capability(PCI_CAP_ID_PM, next, 8, false));
                cs.set16(next + 2, 0x0003); // PMC: version 3
                cs.set16(next + 4, 0x0008); // PMCSR: No_Soft_Reset
                cs.writableMask(next + 4, 2, 0x0003); // PowerState D0..D3hot
                next += 8;
            }
            if (msiVectors > 0) {
                msiAt = next;
                int mmc = Integer.numberOfTrailingZeros(msiVectors);
                cs.set16(next + 2, PCI_MSI_FLAGS_64BIT | (msiPerVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0) | mmc << 1);
                cs.writableMask(next + 2, 2, PCI_MSI_FLAGS_ENABLE | 0x70);
                cs.writableMask(next + 4, 4, 0xfffffffcL); // address low
                cs.writableMask(next + 8, 4, 0xffffffffL); // address high
                cs.writableMask(next + 12, 2, 0xffff);     // data
                if (msiPerVectorMask) {
                    cs.writableMask(next + 16, 4, msiVectors == 32 ? 0xffffffffL : (1L << msiVectors) - 1);
                }
                caps.add(new Capability(PCI_CAP_ID_MSI, next, 0x18, false));
                next += 0x18;
            }
            if (msixVectors > 0) {
                msixAt = next;
                cs.set16(next + 2, msixVectors - 1);
                cs.writableMask(next + 2, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
                cs.set32(next + 4, (int) msixTableOffset | msixTableBar);
                cs.set32(next + 8, (int) msixPbaOffset | msixPbaBar);
                caps.add(new Capability(PCI_CAP_ID_MSIX, next, 12, false));
                next += 12;
            }
            if (pcie) {
                next = (next + 3) & ~3;
                pcieAt = next;
                cs.set16(next + 2, 0x0002);                         // version 2, endpoint
                cs.set32(next + PCI_EXP_DEVCAP, flr ? PCI_EXP_DEVCAP_FLR : 0);
                cs.writableMask(next + PCI_EXP_DEVCTL, 2, 0x7fff | (flr ? PCI_EXP_DEVCTL_BCR_FLR : 0));
                cs.set16(next + PCI_EXP_DEVCTL, 0x2810);            // relaxed ordering, no-snoop, 512 B read request
                cs.w1cMask(next + PCI_EXP_DEVSTA, 2, 0x000f);
                cs.set32(next + 12, 0x00000011);                    // Link Capabilities: 2.5 GT/s, x1
                cs.writableMask(next + 16, 2, 0x0fff);              // Link Control
                cs.set16(next + 18, 0x0011);                        // Link Status: 2.5 GT/s, x1
                cs.writableMask(next + 0x28, 2, 0xffff);            // Device Control 2
                cs.set32(next + 0x2c, 0x2);                         // Link Capabilities 2: 2.5 GT/s
                caps.add(new Capability(PCI_CAP_ID_EXP, next, 0x3c, false));
                next += 0x3c;
            }
            if (next > 0x100) {
                throw new IllegalStateException("capabilities overflow the 256-byte header");
            }
            for (int i = 0; i < caps.size(); i++) {
                Capability c = caps.get(i);
                cs.set8(c.offset(), c.id());
                cs.set8(c.offset() + 1, i + 1 < caps.size() ? caps.get(i + 1).offset() : 0);
            }
            if (!caps.isEmpty()) {
                cs.set8(PCI_CAPABILITY_LIST, caps.get(0).offset());
                cs.set16(PCI_STATUS, PCI_STATUS_CAP_LIST);
            }
            int ext = 0x100;
            for (int i = 0; i < extCapIds.size(); i++) {
                byte[] body = extCapBodies.get(i);
                int nextExt = i + 1 < extCapIds.size() ? ext + 4 + body.length : 0;
                cs.set32(ext, extCapIds.get(i)[0] | extCapIds.get(i)[1] << 16 | nextExt << 20);
                System.arraycopy(body, 0, cs.data, ext + 4, body.length);
                caps.add(new Capability(extCapIds.get(i)[0], ext, 4 + body.length, true));
                ext += 4 + body.length;
                if (ext > PCI_CFG_SPACE_EXP_SIZE) {
                    throw new IllegalStateException("extended capabilities overflow config space");
                }
            }
            cs.freeze();
            return new PciFunction(this, cs, caps, msiAt, msixAt, pcieAt);
        }

        private void checkMsixPlace(String what, int barIndex, long offset, long size) {
            Bar bar = barIndex >= 0 && barIndex < 6 ? bars[barIndex] : null;
            if (bar == null) {
                throw new IllegalArgumentException("MSI-X " + what + " in BAR" + barIndex + ", which does not exist");
            }
            if (offset + size > bar.size()) {
                throw new IllegalArgumentException("MSI-X " + what + " does not fit in BAR" + barIndex);
            }
            for (MmapArea a : bar.mmapAreas()) {
                if (offset < a.offset() + a.size() && a.offset() < offset + size) {
                    throw new IllegalArgumentException("MSI-X " + what + " inside an mmap area of BAR" + barIndex);
                }
            }
        }
    }
}
