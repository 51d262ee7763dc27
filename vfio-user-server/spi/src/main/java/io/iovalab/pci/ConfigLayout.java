package io.iovalab.pci;

import java.util.ArrayList;
import java.util.List;

import static io.iovalab.pci.PciRegs.*;

/**
 * Lays out the power-on config space a {@link PciFunction.Builder} describes: header, BAR
 * registers, the capability list from 0x40 and the extended capabilities from 0x100, with the
 * write masks that give each register its semantics.
 */
final class ConfigLayout {
    /** Where the builder put things; 0 = absent. */
    record Layout(ConfigSpace config, List<Capability> capabilities, int pmCap, int msiCap, int msixCap, int pcieCap) {
    }

    private static final int FIRST_CAP = 0x40;

    private ConfigLayout() {
    }

    static Layout lay(PciFunction.Builder b) {
        ConfigSpace cs = new ConfigSpace(b.pcie ? PCI_CFG_SPACE_EXP_SIZE : PCI_CFG_SPACE_SIZE);
        header(cs, b);
        bars(cs, b.bars);

        List<Capability> caps = new ArrayList<>();
        int next = FIRST_CAP;
        int pmAt = 0;
        int msiAt = 0;
        int msixAt = 0;
        int pcieAt = 0;
        if (b.pm) {
            pmAt = next;
            next = add(caps, PCI_CAP_ID_PM, next, powerManagement(cs, next));
        }
        if (b.msiVectors > 0) {
            msiAt = next;
            next = add(caps, PCI_CAP_ID_MSI, next, msi(cs, next, b.msiVectors, b.msi64, b.msiPerVectorMask));
        }
        if (b.msixVectors > 0) {
            msixAt = next;
            next = add(caps, PCI_CAP_ID_MSIX, next, msix(cs, next, b));
        }
        if (b.pcie) {
            pcieAt = next;
            next = add(caps, PCI_CAP_ID_EXP, next, pcieEndpoint(cs, next, b.flr));
        }
        if (next > PCI_CFG_SPACE_SIZE) {
            throw new IllegalArgumentException("capabilities need " + next + " bytes; the header has 256");
        }
        for (int i = 0; i < caps.size(); i++) {
            Capability c = caps.get(i);
            cs.set8(c.offset(), c.id());
            cs.set8(c.offset() + PCI_CAP_LIST_NEXT, i + 1 < caps.size() ? caps.get(i + 1).offset() : 0);
        }
        if (!caps.isEmpty()) {
            cs.set8(PCI_CAPABILITY_LIST, caps.get(0).offset());
            cs.set16(PCI_STATUS, PCI_STATUS_CAP_LIST);
        }
        extended(cs, b, caps);
        cs.freeze();
        return new Layout(cs, List.copyOf(caps), pmAt, msiAt, msixAt, pcieAt);
    }

    private static int add(List<Capability> caps, int id, int at, int size) {
        caps.add(new Capability(id, at, size, false));
        return at + ((size + 3) & ~3);
    }

    private static void header(ConfigSpace cs, PciFunction.Builder b) {
        cs.set16(PCI_VENDOR_ID, b.vendorId);
        cs.set16(PCI_DEVICE_ID, b.deviceId);
        boolean io = false;
        boolean mem = false;
        for (Bar bar : b.bars) {
            if (bar != null) {
                io |= bar.type() == Bar.Type.IO;
                mem |= bar.type() != Bar.Type.IO;
            }
        }
        // decode enables are hardwired to 0 for a space the function has no BAR in, as the spec allows
        cs.writableMask(PCI_COMMAND, 2, (io ? PCI_COMMAND_IO : 0) | (mem ? PCI_COMMAND_MEMORY : 0) | PCI_COMMAND_MASTER
                | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE);
        cs.w1cMask(PCI_STATUS, 2, PCI_STATUS_RW1C);
        cs.set8(PCI_REVISION_ID, b.revision);
        cs.set8(PCI_CLASS_PROG, b.classCode);
        cs.set16(PCI_CLASS_DEVICE, b.classCode >> 8);
        cs.writableMask(PCI_CACHE_LINE_SIZE, 1, 0xff);
        cs.set16(PCI_SUBSYSTEM_VENDOR_ID, b.subVendor);
        cs.set16(PCI_SUBSYSTEM_ID, b.subId);
        cs.writableMask(PCI_INTERRUPT_LINE, 1, 0xff);
        cs.set8(PCI_INTERRUPT_PIN, b.interruptPin);
        // ROM BAR (0x30) stays read-only 0: no expansion ROM, so sizing it reads back 0
    }

    /** Address bits below the size are read-only 0, so writing all-ones reads back the size mask. */
    private static void bars(ConfigSpace cs, Bar[] bars) {
        for (int i = 0; i < bars.length; i++) {
            Bar bar = bars[i];
            if (bar == null) {
                continue;
            }
            int reg = PCI_BASE_ADDRESS_0 + 4 * i;
            long sizeMask = ~(bar.size() - 1);
            int prefetch = bar.prefetchable() ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
            switch (bar.type()) {
                case IO -> {
                    cs.set32(reg, PCI_BASE_ADDRESS_SPACE_IO);
                    cs.writableMask(reg, 4, sizeMask & 0xfffffffcL);
                }
                case MEMORY32 -> {
                    cs.set32(reg, prefetch);
                    cs.writableMask(reg, 4, sizeMask & 0xfffffff0L);
                }
                case MEMORY64 -> {
                    cs.set32(reg, PCI_BASE_ADDRESS_MEM_TYPE_64 | prefetch);
                    cs.writableMask(reg, 4, sizeMask & 0xfffffff0L);
                    cs.writableMask(reg + 4, 4, (sizeMask >>> 32) & 0xffffffffL);
                }
            }
        }
    }

    /** PM 1.2 (version 3): D0 and D3hot only, No_Soft_Reset so D3hot→D0 keeps the function's state. */
    private static int powerManagement(ConfigSpace cs, int at) {
        cs.set16(at + PCI_PM_PMC, 0x0003);
        cs.set16(at + PCI_PM_CTRL, PCI_PM_CTRL_NO_SOFT_RESET);
        cs.writableMask(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK);
        return PCI_PM_SIZEOF;
    }

    private static int msi(ConfigSpace cs, int at, int vectors, boolean addr64, boolean maskable) {
        int mmc = Integer.numberOfTrailingZeros(vectors);
        cs.set16(at + PCI_MSI_FLAGS, (addr64 ? PCI_MSI_FLAGS_64BIT : 0) | (maskable ? PCI_MSI_FLAGS_MASKBIT : 0) | mmc << 1);
        cs.writableMask(at + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
        cs.writableMask(at + PCI_MSI_ADDRESS_LO, 4, 0xfffffffcL);
        if (addr64) {
            cs.writableMask(at + PCI_MSI_ADDRESS_HI, 4, 0xffffffffL);
        }
        int data = addr64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
        cs.writableMask(at + data, 2, 0xffff);
        if (!maskable) {
            return data + 2;
        }
        int mask = addr64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32;
        cs.writableMask(at + mask, 4, vectors == 32 ? 0xffffffffL : (1L << vectors) - 1);
        // the Pending Bits register that follows is read-only; the interrupt controller keeps it current
        return mask + 8;
    }

    private static int msix(ConfigSpace cs, int at, PciFunction.Builder b) {
        cs.set16(at + PCI_MSIX_FLAGS, b.msixVectors - 1);
        cs.writableMask(at + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
        cs.set32(at + PCI_MSIX_TABLE, (int) b.msixTableOffset | b.msixTableBar);
        cs.set32(at + PCI_MSIX_PBA, (int) b.msixPbaOffset | b.msixPbaBar);
        return PCI_CAP_MSIX_SIZEOF;
    }

    /** PCI Express capability version 2 of an endpoint on an x1 2.5 GT/s link. */
    private static int pcieEndpoint(ConfigSpace cs, int at, boolean flr) {
        cs.set16(at + PCI_EXP_FLAGS, 2 | PCI_EXP_TYPE_ENDPOINT << 4);
        cs.set32(at + PCI_EXP_DEVCAP, PCI_EXP_DEVCAP_RBER | (flr ? PCI_EXP_DEVCAP_FLR : 0));
        // error reporting enables, relaxed ordering, max payload, no snoop, max read request; phantom
        // functions, extended tags and aux power are not supported and stay 0
        cs.writableMask(at + PCI_EXP_DEVCTL, 2, 0x78ff | (flr ? PCI_EXP_DEVCTL_BCR_FLR : 0));
        cs.set16(at + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ_512B);
        cs.w1cMask(at + PCI_EXP_DEVSTA, 2, 0x000f);
        cs.set32(at + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_SLS_2_5GB | PCI_EXP_LNKCAP_MLW_X1);
        // ASPM control, read completion boundary, common clock, extended synch, autonomous width disable
        cs.writableMask(at + PCI_EXP_LNKCTL, 2, 0x02cb);
        cs.set16(at + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS_2_5GB | PCI_EXP_LNKSTA_NLW_X1);
        cs.set32(at + PCI_EXP_LNKCAP2, PCI_EXP_LNKCAP2_SLS_2_5GB);
        cs.set16(at + PCI_EXP_LNKCTL2, PCI_EXP_LNKCTL2_TLS_2_5GT);
        cs.writableMask(at + PCI_EXP_LNKCTL2, 2, 0x000f);
        return PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
    }

    /** Chains the extended capabilities from 0x100; none leaves the all-zero header the spec asks for. */
    private static void extended(ConfigSpace cs, PciFunction.Builder b, List<Capability> caps) {
        int at = PCI_CFG_SPACE_SIZE;
        for (int i = 0; i < b.extCaps.size(); i++) {
            PciFunction.Builder.ExtCap c = b.extCaps.get(i);
            int size = 4 + c.body().length;
            if (at + size > PCI_CFG_SPACE_EXP_SIZE) {
                throw new IllegalArgumentException("extended capability 0x" + Integer.toHexString(c.id())
                        + " does not fit in the 4 KiB config space");
            }
            int nextAt = i + 1 < b.extCaps.size() ? at + size : 0;
            cs.set32(at, c.id() | c.version() << 16 | nextAt << 20);
            System.arraycopy(c.body(), 0, cs.data, at + 4, c.body().length);
            caps.add(new Capability(c.id(), at, size, true));
            at += size;
        }
    }
}
