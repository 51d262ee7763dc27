package io.iovalab.pci;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

import static io.iovalab.pci.PciRegs.*;

/**
 * One PCI function: type-0 config space, BARs, capabilities and interrupts. Devices build it with
 * {@link #builder()}; the server forwards config and BAR accesses to it.
 *
 * <p>Config space and interrupt state share one lock: the message thread writes config while
 * device threads raise interrupts that depend on it (MSI-X Enable and Function Mask, MSI mask
 * bits, INTx Disable). Device {@link RegionHandler}s and the {@link PciListener} are called
 * without that lock held.
 */
public final class PciFunction {
    final Object lock = new Object();
    private final ConfigSpace config;
    private final Bar[] bars;
    private final List<Capability> capabilities;
    final int interruptPin;
    final int msiVectors;
    final int msixVectors;
    private final int pmCap;
    private final int msiCap;
    private final int msiMaskReg;
    private final int msixCap;
    private final int msixTableBar;
    private final long msixTableOffset;
    private final int msixPbaBar;
    private final long msixPbaOffset;
    private final int pcieCap;
    private final InterruptController interrupts;
    private volatile PciListener listener;

    private PciFunction(Builder b, ConfigLayout.Layout layout) {
        this.config = layout.config();
        this.bars = b.bars.clone();
        this.capabilities = layout.capabilities();
        this.interruptPin = b.interruptPin;
        this.msiVectors = b.msiVectors;
        this.msixVectors = b.msixVectors;
        this.pmCap = layout.pmCap();
        this.msiCap = layout.msiCap();
        this.msiMaskReg = !b.msiPerVectorMask ? 0 : msiCap + (b.msi64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32);
        this.msixCap = layout.msixCap();
        this.msixTableBar = b.msixTableBar;
        this.msixTableOffset = b.msixTableOffset;
        this.msixPbaBar = b.msixPbaBar;
        this.msixPbaOffset = b.msixPbaOffset;
        this.pcieCap = layout.pcieCap();
        this.interrupts = new InterruptController(this);
        this.listener = new SelfResetting();
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

    /** The BAR registered at {@code index}; null when absent or the upper half of a 64-bit BAR. */
    public Bar bar(int index) {
        return index >= 0 && index < 6 ? bars[index] : null;
    }

    /** Capabilities as laid out, standard ones first, for tests and inspection. */
    public List<Capability> capabilities() {
        return capabilities;
    }

    // ---------------- server-facing ----------------

    public int configSize() {
        return config.size();
    }

    /** The server; until one is set, an FLR only resets the config space. */
    public void setListener(PciListener l) {
        listener = Objects.requireNonNull(l, "listener");
    }

    public void configRead(long offset, byte[] dst, int dstOffset, int count) {
        checkConfig(offset, count);
        Objects.checkFromIndexSize(dstOffset, count, dst.length);
        synchronized (lock) {
            System.arraycopy(config.data, (int) offset, dst, dstOffset, count);
        }
    }

    /**
     * Applies a config write through the RO/RW/RW1C masks, then the side effects: Command
     * (decode, bus master, INTx Disable), PMCSR power state, MSI/MSI-X control and masks, PCIe
     * Device Control "Initiate FLR". Listener calls follow, outside the lock.
     */
    public void configWrite(long offset, byte[] src, int srcOffset, int count) {
        checkConfig(offset, count);
        Objects.checkFromIndexSize(srcOffset, count, src.length);
        boolean masterBefore;
        boolean masterAfter;
        int msixBefore;
        int msixAfter;
        boolean flr;
        synchronized (lock) {
            masterBefore = masterLocked();
            msixBefore = msixControlLocked();
            int pmcsrBefore = pmCap != 0 ? config.get16(pmCap + PCI_PM_CTRL) : 0;
            config.write((int) offset, src, srcOffset, count);
            if (pmCap != 0) {
                fixPowerState(pmcsrBefore);
            }
            if (msiCap != 0) {
                clampMultipleMessageEnable();
            }
            flr = takeFlrRequest();
            interrupts.configWrittenLocked();
            masterAfter = masterLocked();
            msixAfter = msixControlLocked();
        }
        PciListener l = listener;
        if (masterBefore != masterAfter) {
            l.busMasterChanged(masterAfter);
        }
        if (msixBefore != msixAfter) {
            l.msixEnableChanged((msixAfter & PCI_MSIX_FLAGS_ENABLE) != 0, (msixAfter & PCI_MSIX_FLAGS_MASKALL) != 0);
        }
        if (flr) {
            l.functionLevelReset();
        }
    }

    /** D1 and D2 are not supported: such a write completes but changes nothing (PCI PM 1.2). */
    private void fixPowerState(int pmcsrBefore) {
        int pmcsr = config.get16(pmCap + PCI_PM_CTRL);
        int state = pmcsr & PCI_PM_CTRL_STATE_MASK;
        if (state != PCI_D0 && state != PCI_D3HOT) {
            config.set16(pmCap + PCI_PM_CTRL, (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | (pmcsrBefore & PCI_PM_CTRL_STATE_MASK));
        }
    }

    /** Multiple Message Enable never exceeds Multiple Message Capable. */
    private void clampMultipleMessageEnable() {
        int ctl = config.get16(msiCap + PCI_MSI_FLAGS);
        int mmc = (ctl & PCI_MSI_FLAGS_QMASK) >> 1;
        int mme = (ctl & PCI_MSI_FLAGS_QSIZE) >> 4;
        if (mme > mmc) {
            config.set16(msiCap + PCI_MSI_FLAGS, (ctl & ~PCI_MSI_FLAGS_QSIZE) | mmc << 4);
        }
    }

    /** "Initiate Function Level Reset" always reads back 0; the reset runs after the lock is released. */
    private boolean takeFlrRequest() {
        if (pcieCap == 0) {
            return false;
        }
        int devctl = config.get16(pcieCap + PCI_EXP_DEVCTL);
        if ((devctl & PCI_EXP_DEVCTL_BCR_FLR) == 0) {
            return false;
        }
        config.set16(pcieCap + PCI_EXP_DEVCTL, devctl & ~PCI_EXP_DEVCTL_BCR_FLR);
        return true;
    }

    /** BAR read; the MSI-X table and PBA are served here, the rest by the device's handler. */
    public long regionRead(int barIndex, long offset, int width) {
        Bar bar = checkBar(barIndex, offset, width);
        if (!decodeEnabled(bar)) {
            return BarAccess.ones(width); // master abort
        }
        return BarAccess.read(pieces(barIndex, bar), offset, width);
    }

    /** BAR write; dropped when the BAR's decode is off. */
    public void regionWrite(int barIndex, long offset, int width, long value) {
        Bar bar = checkBar(barIndex, offset, width);
        if (!decodeEnabled(bar)) {
            return;
        }
        BarAccess.write(pieces(barIndex, bar), offset, width, value);
    }

    private BarAccess.Piece pieces(int barIndex, Bar bar) {
        return new BarAccess.Piece() {
            @Override
            public long read(long offset, int width) {
                if (inMsixTable(barIndex, offset, width)) {
                    return interrupts.tableRead(offset - msixTableOffset, width);
                }
                if (inMsixPba(barIndex, offset, width)) {
                    return interrupts.pbaRead(offset - msixPbaOffset, width);
                }
                if (BarAccess.mmapAreaOf(bar, offset, width) != null) {
                    return BarAccess.sharedRead(bar, offset, width);
                }
                return bar.handler().read(offset, width);
            }

            @Override
            public void write(long offset, int width, long value) {
                if (inMsixTable(barIndex, offset, width)) {
                    interrupts.tableWrite(offset - msixTableOffset, width, value);
                } else if (inMsixPba(barIndex, offset, width)) {
                    return; // the PBA is read-only
                } else if (BarAccess.mmapAreaOf(bar, offset, width) != null) {
                    BarAccess.sharedWrite(bar, offset, width, value);
                    bar.handler().mmapAreaWritten(offset, width, value);
                } else {
                    bar.handler().write(offset, width, value);
                }
            }
        };
    }

    private boolean inMsixTable(int barIndex, long offset, int width) {
        return msixCap != 0 && barIndex == msixTableBar
                && offset >= msixTableOffset && offset + width <= msixTableOffset + interrupts.msix.tableSize();
    }

    private boolean inMsixPba(int barIndex, long offset, int width) {
        return msixCap != 0 && barIndex == msixPbaBar
                && offset >= msixPbaOffset && offset + width <= msixPbaOffset + interrupts.msix.pbaSize();
    }

    /** Command IO/MEM decode, and D0: in D3hot a function answers config cycles only. */
    private boolean decodeEnabled(Bar bar) {
        synchronized (lock) {
            int cmd = config.get16(PCI_COMMAND);
            boolean on = (cmd & (bar.type() == Bar.Type.IO ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) != 0;
            return on && (pmCap == 0 || (config.get16(pmCap + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK) == PCI_D0);
        }
    }

    private Bar checkBar(int index, long offset, int width) {
        Bar bar = bar(index);
        if (bar == null) {
            throw new IllegalArgumentException("BAR" + index + " does not exist");
        }
        if (width < 1 || width > 8) {
            throw new IllegalArgumentException("access width " + width + " (1..8 bytes)");
        }
        if (offset < 0 || offset > bar.size() - width) {
            throw new IllegalArgumentException("BAR" + index + " access at 0x" + Long.toHexString(offset) + "+" + width
                    + " beyond its size 0x" + Long.toHexString(bar.size()));
        }
        return bar;
    }

    private void checkConfig(long offset, int count) {
        if (offset < 0 || count < 0 || offset > config.size() - (long) count) {
            throw new IllegalArgumentException("config access at 0x" + Long.toHexString(offset) + "+" + count
                    + " beyond its size 0x" + Integer.toHexString(config.size()));
        }
    }

    /** GET_IRQ_INFO counts per VFIO irq index; 0 when the function lacks it. */
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

    /**
     * Power-on config and interrupt state for DEVICE_RESET, FLR and a departed client: BARs,
     * Command, MSI/MSI-X control, the MSI-X table copy and pending bits. The sinks stay: they
     * belong to the client's SET_IRQS state.
     */
    public void resetConfig() {
        boolean wasMaster;
        int msixBefore;
        synchronized (lock) {
            wasMaster = masterLocked();
            msixBefore = msixControlLocked();
            config.reset();
            interrupts.resetLocked();
        }
        PciListener l = listener;
        if (wasMaster) {
            l.busMasterChanged(false);
        }
        if (msixBefore != 0) {
            l.msixEnableChanged(false, false);
        }
    }

    /** For tests that need a register state no access can produce (e.g. error bits to clear). */
    ConfigSpace configSpace() {
        return config;
    }

    // ---------------- state the interrupt controller reads, under the lock ----------------

    private boolean masterLocked() {
        return (config.get16(PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
    }

    /** Enable and Function Mask bits of MSI-X Message Control; 0 without MSI-X. */
    private int msixControlLocked() {
        return msixCap == 0 ? 0 : config.get16(msixCap + PCI_MSIX_FLAGS) & (PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    }

    boolean msixEnabledLocked() {
        return (msixControlLocked() & PCI_MSIX_FLAGS_ENABLE) != 0;
    }

    boolean msixFunctionMaskedLocked() {
        return (msixControlLocked() & PCI_MSIX_FLAGS_MASKALL) != 0;
    }

    boolean msiEnabledLocked() {
        return msiCap != 0 && (config.get16(msiCap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_ENABLE) != 0;
    }

    /** Vectors the guest granted with Multiple Message Enable. */
    int msiEnabledVectorsLocked() {
        return 1 << ((config.get16(msiCap + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_QSIZE) >> 4);
    }

    int msiMaskBitsLocked() {
        return msiMaskReg == 0 ? 0 : config.get32(msiMaskReg);
    }

    void setMsiPendingBitsLocked(int bits) {
        if (msiMaskReg != 0) {
            config.set32(msiMaskReg + 4, bits);
        }
    }

    boolean intxDisabledLocked() {
        return (config.get16(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE) != 0;
    }

    void setInterruptStatusLocked(boolean on) {
        int st = config.get16(PCI_STATUS);
        config.set16(PCI_STATUS, on ? st | PCI_STATUS_INTERRUPT : st & ~PCI_STATUS_INTERRUPT);
    }

    /** Until the server takes over, an FLR at least returns the config space to power-on. */
    private final class SelfResetting implements PciListener {
        @Override
        public void busMasterChanged(boolean enabled) {
        }

        @Override
        public void functionLevelReset() {
            resetConfig();
        }
    }

    // ---------------- builder ----------------

    /** Describes a function; {@link #build()} checks it and lays out the config space. */
    public static final class Builder {
        record ExtCap(int id, int version, byte[] body) {
        }

        int vendorId = -1;
        int deviceId;
        int subVendor;
        int subId;
        int classCode;
        int revision;
        int interruptPin;
        final Bar[] bars = new Bar[6];
        boolean pm;
        int msiVectors;
        boolean msiPerVectorMask;
        boolean msi64;
        int msixVectors;
        int msixTableBar;
        long msixTableOffset;
        int msixPbaBar;
        long msixPbaOffset;
        boolean pcie;
        boolean flr;
        final List<ExtCap> extCaps = new ArrayList<>();

        private Builder() {
        }

        public Builder vendorId(int id) {
            if (id < 0 || id >= 0xffff) {
                throw new IllegalArgumentException("vendor id 0x" + Integer.toHexString(id) + " (0x0000..0xfffe)");
            }
            vendorId = id;
            return this;
        }

        public Builder deviceId(int id) {
            deviceId = u16("device id", id);
            return this;
        }

        public Builder subsystem(int vendorId, int id) {
            subVendor = u16("subsystem vendor id", vendorId);
            subId = u16("subsystem id", id);
            return this;
        }

        public Builder classCode(int baseClass, int subClass, int progIf) {
            classCode = u8("base class", baseClass) << 16 | u8("sub-class", subClass) << 8 | u8("prog-if", progIf);
            return this;
        }

        public Builder revision(int rev) {
            revision = u8("revision", rev);
            return this;
        }

        /** 0 none, 1..4 INTA#..INTD#. */
        public Builder interruptPin(int pin) {
            if (pin < 0 || pin > 4) {
                throw new IllegalArgumentException("interrupt pin " + pin + " (0 none, 1-4 INTA#-INTD#)");
            }
            interruptPin = pin;
            return this;
        }

        /** A MEMORY64 BAR takes {@code index} and {@code index + 1}. */
        public Builder bar(int index, Bar bar) {
            Objects.requireNonNull(bar, "bar");
            if (bar.handler() == null) {
                throw new IllegalArgumentException("BAR" + index + " has no RegionHandler (use RegionHandler.NONE)");
            }
            if (index < 0 || index > 5) {
                throw new IllegalArgumentException("BAR index " + index + " (0..5)");
            }
            if (bar.type() == Bar.Type.MEMORY64 && index == 5) {
                throw new IllegalArgumentException("a 64-bit BAR needs two registers; BAR5 has no partner");
            }
            if (bars[index] != null) {
                throw new IllegalArgumentException("BAR" + index + " is already taken");
            }
            if (index > 0 && bars[index - 1] != null && bars[index - 1].type() == Bar.Type.MEMORY64) {
                throw new IllegalArgumentException("BAR" + index + " is the upper half of 64-bit BAR" + (index - 1));
            }
            if (bar.type() == Bar.Type.MEMORY64 && bars[index + 1] != null) {
                throw new IllegalArgumentException("BAR" + (index + 1) + " is needed for the upper half of 64-bit BAR" + index);
            }
            bars[index] = bar;
            return this;
        }

        /** PM capability: D0 and D3hot. */
        public Builder powerManagement() {
            pm = true;
            return this;
        }

        /** MSI with a 64-bit message address; {@code vectors} is 1, 2, 4, 8, 16 or 32. */
        public Builder msi(int vectors, boolean perVectorMasking) {
            return msi(vectors, perVectorMasking, true);
        }

        public Builder msi(int vectors, boolean perVectorMasking, boolean address64) {
            if (vectors < 1 || vectors > 32 || Integer.bitCount(vectors) != 1) {
                throw new IllegalArgumentException("MSI vectors must be a power of two 1..32, got " + vectors);
            }
            msiVectors = vectors;
            msiPerVectorMask = perVectorMasking;
            msi64 = address64;
            return this;
        }

        /** MSI-X with {@code vectors} (1..2048); table and PBA offsets are 8-byte aligned, inside memory BARs. */
        public Builder msix(int vectors, int tableBar, long tableOffset, int pbaBar, long pbaOffset) {
            if (vectors < 1 || vectors > 2048) {
                throw new IllegalArgumentException("MSI-X vectors must be 1..2048, got " + vectors);
            }
            if (((tableOffset | pbaOffset) & 7) != 0 || tableOffset < 0 || pbaOffset < 0
                    || tableOffset > 0xffff_fff8L || pbaOffset > 0xffff_fff8L) {
                throw new IllegalArgumentException("MSI-X table and PBA offsets must be 8-byte aligned 32-bit values");
            }
            msixVectors = vectors;
            msixTableBar = tableBar;
            msixTableOffset = tableOffset;
            msixPbaBar = pbaBar;
            msixPbaOffset = pbaOffset;
            return this;
        }

        /** PCI Express capability v2, endpoint; {@code functionLevelReset} sets Device Capabilities FLR. */
        public Builder pcieEndpoint(boolean functionLevelReset) {
            pcie = true;
            flr = functionLevelReset;
            return this;
        }

        /** An extended capability (e.g. DSN, 0x0003) chained from 0x100; needs {@link #pcieEndpoint}. */
        public Builder extendedCapability(int capId, int version, byte[] body) {
            if (capId < 1 || capId > 0xffff) {
                throw new IllegalArgumentException("extended capability id 0x" + Integer.toHexString(capId) + " (1..0xffff)");
            }
            if (version < 0 || version > 15) {
                throw new IllegalArgumentException("extended capability version " + version + " (0..15)");
            }
            if ((body.length & 3) != 0) {
                throw new IllegalArgumentException("extended capability body must be a multiple of 4 bytes, got "
                        + body.length);
            }
            extCaps.add(new ExtCap(capId, version, body.clone()));
            return this;
        }

        public PciFunction build() {
            if (vendorId < 0) {
                throw new IllegalArgumentException("vendorId is not set");
            }
            if (!extCaps.isEmpty() && !pcie) {
                throw new IllegalArgumentException("extended capabilities need a PCI Express capability (config space > 256 bytes)");
            }
            if (msixVectors > 0) {
                long tableSize = (long) PCI_MSIX_ENTRY_SIZE * msixVectors;
                long pbaSize = 8L * ((msixVectors + 63) / 64);
                checkMsixPlace("table", msixTableBar, msixTableOffset, tableSize);
                checkMsixPlace("PBA", msixPbaBar, msixPbaOffset, pbaSize);
                if (msixTableBar == msixPbaBar && msixTableOffset < msixPbaOffset + pbaSize
                        && msixPbaOffset < msixTableOffset + tableSize) {
                    throw new IllegalArgumentException("MSI-X table and PBA overlap");
                }
            }
            return new PciFunction(this, ConfigLayout.lay(this));
        }

        private void checkMsixPlace(String what, int barIndex, long offset, long size) {
            Bar bar = barIndex >= 0 && barIndex < 6 ? bars[barIndex] : null;
            if (bar == null) {
                throw new IllegalArgumentException("MSI-X " + what + " in BAR" + barIndex + ", which does not exist");
            }
            if (bar.type() == Bar.Type.IO) {
                throw new IllegalArgumentException("MSI-X " + what + " in BAR" + barIndex + ", an I/O BAR");
            }
            if (offset + size > bar.size()) {
                throw new IllegalArgumentException("MSI-X " + what + " (0x" + Long.toHexString(offset) + "+0x"
                        + Long.toHexString(size) + ") does not fit in BAR" + barIndex);
            }
            for (MmapArea a : bar.mmapAreas()) {
                if (offset < a.offset() + a.size() && a.offset() < offset + size) {
                    throw new IllegalArgumentException("MSI-X " + what + " inside an mmap area of BAR" + barIndex);
                }
            }
        }

        private static int u16(String what, int v) {
            if (v < 0 || v > 0xffff) {
                throw new IllegalArgumentException(what + " 0x" + Integer.toHexString(v) + " is not 16 bits");
            }
            return v;
        }

        private static int u8(String what, int v) {
            if (v < 0 || v > 0xff) {
                throw new IllegalArgumentException(what + " 0x" + Integer.toHexString(v) + " is not 8 bits");
            }
            return v;
        }
    }
}
