package io.iovalab.pci;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import static io.iovalab.pci.Cfg.*;
import static io.iovalab.pci.PciRegs.*;
import static org.junit.jupiter.api.Assertions.*;

class CapabilityTest {

    /**
     * Bits 0..3 of {@code m}: PM, MSI, MSI-X, PCIe. Bit 4: MSI per-vector masking. Bits 5..6: how
     * many extended capabilities (0..2, only with PCIe).
     */
    static Stream<Integer> combinations() {
        return IntStream.range(0, 96).boxed().filter(m -> (m & 8) != 0 || (m >> 5) == 0);
    }

    private static PciFunction build(int m) {
        PciFunction.Builder b = base().bar(0, Bar.memory32(4096, RegionHandler.NONE));
        if ((m & 1) != 0) {
            b.powerManagement();
        }
        if ((m & 2) != 0) {
            b.msi(4, (m & 16) != 0);
        }
        if ((m & 4) != 0) {
            b.msix(16, 0, 0x400, 0, 0x800);
        }
        if ((m & 8) != 0) {
            b.pcieEndpoint(true);
            for (int i = 0; i < m >> 5; i++) {
                b.extendedCapability(i == 0 ? PCI_EXT_CAP_ID_DSN : 0x000b, 1, new byte[8 + 4 * i]);
            }
        }
        return b.build();
    }

    @ParameterizedTest
    @MethodSource("combinations")
    void walking_from_0x34_finds_every_capability_once_with_valid_next_pointers(int m) {
        PciFunction f = build(m);
        List<Integer> ids = new ArrayList<>();
        Set<Integer> seen = new HashSet<>();
        int at = read8(f, PCI_CAPABILITY_LIST);
        while (at != 0) {
            assertTrue(at >= 0x40 && at <= 0xfc && (at & 3) == 0, "capability pointer 0x" + Integer.toHexString(at));
            assertTrue(seen.add(at), "loop in the capability list at 0x" + Integer.toHexString(at));
            ids.add(read8(f, at));
            at = read8(f, at + PCI_CAP_LIST_NEXT);
        }
        List<Integer> expected = new ArrayList<>();
        if ((m & 1) != 0) {
            expected.add(PCI_CAP_ID_PM);
        }
        if ((m & 2) != 0) {
            expected.add(PCI_CAP_ID_MSI);
        }
        if ((m & 4) != 0) {
            expected.add(PCI_CAP_ID_MSIX);
        }
        if ((m & 8) != 0) {
            expected.add(PCI_CAP_ID_EXP);
        }
        assertEquals(expected, ids);
        assertEquals(expected.isEmpty() ? 0 : PCI_STATUS_CAP_LIST, read16(f, PCI_STATUS) & PCI_STATUS_CAP_LIST);
        assertEquals((m & 8) != 0 ? 4096 : 256, f.configSize());

        // capabilities do not overlap each other
        List<Capability> std = f.capabilities().stream().filter(c -> !c.extended()).toList();
        for (int i = 1; i < std.size(); i++) {
            assertTrue(std.get(i - 1).offset() + std.get(i - 1).size() <= std.get(i).offset(), std.toString());
        }
    }

    @ParameterizedTest
    @MethodSource("combinations")
    void walking_from_0x100_finds_every_extended_capability(int m) {
        PciFunction f = build(m);
        if ((m & 8) == 0) {
            return; // 256-byte config space: nothing at 0x100
        }
        List<Capability> expected = f.capabilities().stream().filter(Capability::extended).toList();
        List<Integer> ids = new ArrayList<>();
        int at = 0x100;
        Set<Integer> seen = new HashSet<>();
        while (true) {
            int header = read32(f, at);
            if (header == 0) {
                assertEquals(0x100, at, "an all-zero header is allowed only at 0x100 (no extended capabilities)");
                break;
            }
            assertTrue(seen.add(at));
            ids.add(extCapId(header));
            assertEquals(1, extCapVersion(header));
            int next = extCapNext(header);
            if (next == 0) {
                break;
            }
            assertTrue(next >= 0x100 && next > at && next <= 0xffc, "next 0x" + Integer.toHexString(next));
            at = next;
        }
        assertEquals(expected.stream().map(Capability::id).toList(), ids);
    }

    @Test
    void power_management_is_version_3_with_d0_and_d3hot_only() {
        PciFunction f = base().bar(0, Bar.memory32(4096, new RecordingHandler(4096))).powerManagement().build();
        int pm = cap(f, PCI_CAP_ID_PM);
        assertEquals(3, read16(f, pm + PCI_PM_PMC) & 7);
        assertEquals(0, read16(f, pm + PCI_PM_PMC) & 0xfe00, "no PME, no D1/D2");
        assertEquals(PCI_PM_CTRL_NO_SOFT_RESET, read16(f, pm + PCI_PM_CTRL), "D0, No_Soft_Reset");

        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        write16(f, pm + PCI_PM_CTRL, PCI_D3HOT);
        assertEquals(PCI_D3HOT, read16(f, pm + PCI_PM_CTRL) & 3);
        assertEquals(0xffffffffL, f.regionRead(0, 0, 4), "no memory decode in D3hot");
        write16(f, pm + PCI_PM_CTRL, 1);
        assertEquals(PCI_D3HOT, read16(f, pm + PCI_PM_CTRL) & 3, "D1 is unsupported: the write changes nothing");
        write16(f, pm + PCI_PM_CTRL, PCI_D0);
        assertEquals(PCI_D0, read16(f, pm + PCI_PM_CTRL) & 3);
        assertEquals(0, f.regionRead(0, 0, 4));
        assertEquals(PCI_COMMAND_MEMORY, read16(f, PCI_COMMAND), "No_Soft_Reset: D3hot→D0 keeps the config");
    }

    @Test
    void msi_capability_reports_vectors_address_width_and_masking() {
        PciFunction f64 = base().msi(8, true).build();
        int msi = cap(f64, PCI_CAP_ID_MSI);
        int ctl = read16(f64, msi + PCI_MSI_FLAGS);
        assertEquals(3, (ctl & PCI_MSI_FLAGS_QMASK) >> 1, "Multiple Message Capable: 8 vectors");
        assertEquals(PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT, ctl & (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT));
        write32(f64, msi + PCI_MSI_ADDRESS_LO, 0xfee01003);
        write32(f64, msi + PCI_MSI_ADDRESS_HI, 0x12);
        write16(f64, msi + PCI_MSI_DATA_64, 0x4041);
        write32(f64, msi + PCI_MSI_MASK_64, -1);
        assertEquals(0xfee01000, read32(f64, msi + PCI_MSI_ADDRESS_LO), "address is dword aligned");
        assertEquals(0x12, read32(f64, msi + PCI_MSI_ADDRESS_HI));
        assertEquals(0x4041, read16(f64, msi + PCI_MSI_DATA_64));
        assertEquals(0xff, read32(f64, msi + PCI_MSI_MASK_64), "one mask bit per capable vector");
        write32(f64, msi + PCI_MSI_PENDING_64, -1);
        assertEquals(0, read32(f64, msi + PCI_MSI_PENDING_64), "Pending Bits are read-only");
        write16(f64, msi + PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE | 7 << 4);
        assertEquals(3, (read16(f64, msi + PCI_MSI_FLAGS) & PCI_MSI_FLAGS_QSIZE) >> 4, "MME is clamped to MMC");

        PciFunction f32 = base().msi(1, false, false).build();
        int m32 = cap(f32, PCI_CAP_ID_MSI);
        assertEquals(0, read16(f32, m32 + PCI_MSI_FLAGS) & (PCI_MSI_FLAGS_64BIT | PCI_MSI_FLAGS_MASKBIT | PCI_MSI_FLAGS_QMASK));
        write16(f32, m32 + PCI_MSI_DATA_32, 0x55);
        assertEquals(0x55, read16(f32, m32 + PCI_MSI_DATA_32));
    }

    @Test
    void msix_capability_points_at_table_and_pba() {
        PciFunction f = base().bar(2, Bar.memory64(16384, false, RegionHandler.NONE))
                .bar(4, Bar.memory32(8192, RegionHandler.NONE))
                .msix(100, 4, 0x0, 2, 0x3000).build();
        int x = cap(f, PCI_CAP_ID_MSIX);
        assertEquals(99, read16(f, x + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE);
        assertEquals(0x4, read32(f, x + PCI_MSIX_TABLE));
        assertEquals(0x3002, read32(f, x + PCI_MSIX_PBA));
        write16(f, x + PCI_MSIX_FLAGS, 0xffff);
        assertEquals(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 99, read16(f, x + PCI_MSIX_FLAGS),
                "only Enable and Function Mask are writable");
        write32(f, x + PCI_MSIX_TABLE, 0);
        assertEquals(0x4, read32(f, x + PCI_MSIX_TABLE));
        assertEquals(100, f.irqCount(IrqIndex.VFIO_PCI_MSIX_IRQ_INDEX));
    }

    @Test
    void pcie_capability_is_a_v2_endpoint_on_an_x1_link() {
        PciFunction f = base().pcieEndpoint(true).build();
        int e = cap(f, PCI_CAP_ID_EXP);
        assertEquals(2, read16(f, e + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_VERS);
        assertEquals(PCI_EXP_TYPE_ENDPOINT, (read16(f, e + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4);
        assertEquals(PCI_EXP_DEVCAP_FLR, read32(f, e + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR);
        assertEquals(0, read32(f, e + PCI_EXP_DEVCAP) & 7, "Max_Payload_Size_Supported 128 B");
        assertEquals(0x11, read32(f, e + PCI_EXP_LNKCAP) & 0x3ff, "2.5 GT/s, x1");
        assertEquals(0x11, read16(f, e + PCI_EXP_LNKSTA) & 0x3ff, "trained at 2.5 GT/s, x1");
        assertEquals(PCI_EXP_LNKCAP2_SLS_2_5GB, read32(f, e + PCI_EXP_LNKCAP2));
        assertEquals(PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ_512B,
                read16(f, e + PCI_EXP_DEVCTL), "Device Control power-on value");
        assertEquals(1, f.irqCount(IrqIndex.VFIO_PCI_ERR_IRQ_INDEX), "ERR irq exists with a PCIe capability");

        PciFunction noFlr = base().pcieEndpoint(false).build();
        assertEquals(0, read32(noFlr, cap(noFlr, PCI_CAP_ID_EXP) + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR);
        assertEquals(0, base().build().irqCount(IrqIndex.VFIO_PCI_ERR_IRQ_INDEX));
    }

    @Test
    void initiate_flr_calls_the_listener_and_reads_back_zero() {
        PciFunction f = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).pcieEndpoint(true).build();
        RecordingListener l = new RecordingListener();
        f.setListener(l);
        int devctl = cap(f, PCI_CAP_ID_EXP) + PCI_EXP_DEVCTL;
        write16(f, devctl, PCI_EXP_DEVCTL_BCR_FLR | 0x000f | PCI_EXP_DEVCTL_READRQ_512B);
        assertEquals(List.of("flr"), l.calls);
        assertEquals(0x000f | PCI_EXP_DEVCTL_READRQ_512B, read16(f, devctl), "the FLR bit reads back 0, the rest sticks");
        write(f, devctl + 1, 1, 0x80); // the upper byte alone
        assertEquals(List.of("flr", "flr"), l.calls);
        write16(f, devctl, 0x000f);
        assertEquals(2, l.calls.size(), "no FLR without the bit");
    }

    @Test
    void flr_is_not_writable_without_the_capability_bit() {
        PciFunction f = base().pcieEndpoint(false).build();
        RecordingListener l = new RecordingListener();
        f.setListener(l);
        int devctl = cap(f, PCI_CAP_ID_EXP) + PCI_EXP_DEVCTL;
        write16(f, devctl, 0xffff);
        assertTrue(l.calls.isEmpty());
        assertEquals(0, read16(f, devctl) & PCI_EXP_DEVCTL_BCR_FLR);
    }

    @Test
    void flr_without_a_server_still_resets_the_config_space() {
        PciFunction f = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).pcieEndpoint(true).build();
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        write32(f, 0x10, 0xfe000000);
        write16(f, cap(f, PCI_CAP_ID_EXP) + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_BCR_FLR);
        assertEquals(0, read16(f, PCI_COMMAND));
        assertEquals(0, read32(f, 0x10));
    }

    @Test
    void device_status_errors_are_write_one_to_clear() {
        PciFunction f = base().pcieEndpoint(true).build();
        int devsta = cap(f, PCI_CAP_ID_EXP) + PCI_EXP_DEVSTA;
        f.configSpace().set16(devsta, 0x5);
        write16(f, devsta, 0x4);
        assertEquals(0x1, read16(f, devsta));
        write16(f, devsta, 0xfff0);
        assertEquals(0x1, read16(f, devsta));
    }

    @Test
    void dsn_body_is_placed_after_its_header() {
        byte[] dsn = {(byte) 0xef, (byte) 0xcd, (byte) 0xab, (byte) 0x89, 0x67, 0x45, 0x23, 0x01};
        PciFunction f = base().pcieEndpoint(true).extendedCapability(PCI_EXT_CAP_ID_DSN, 1, dsn).build();
        assertEquals(PCI_EXT_CAP_ID_DSN | 1 << 16, read32(f, 0x100), "DSN, version 1, last in chain");
        assertEquals(0x89abcdef, read32(f, 0x104));
        assertEquals(0x01234567, read32(f, 0x108));
        write32(f, 0x104, 0);
        assertEquals(0x89abcdef, read32(f, 0x104), "extended capabilities are read-only");
    }
}
