package io.iovalab.pci;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.iovalab.pci.Cfg.*;
import static io.iovalab.pci.PciRegs.*;
import static org.junit.jupiter.api.Assertions.*;

class ConfigHeaderTest {

    private static PciFunction threeKindsOfBar() {
        return base()
                .bar(0, Bar.memory32(4096, RegionHandler.NONE))
                .bar(2, Bar.memory64(1 << 20, true, RegionHandler.NONE))
                .bar(4, Bar.io(32, RegionHandler.NONE))
                .build();
    }

    @Test
    void bar_sizing_reads_back_size_mask_with_type_bits() {
        PciFunction f = threeKindsOfBar();
        assertEquals(0x0, read32(f, 0x10), "32-bit non-prefetchable memory, base 0 at power-on");
        assertEquals(0xc, read32(f, 0x18), "64-bit prefetchable");
        assertEquals(0x1, read32(f, 0x20), "I/O");

        for (int reg = 0x10; reg <= 0x24; reg += 4) {
            write32(f, reg, -1);
        }
        assertEquals(0xfffff000, read32(f, 0x10), "4 KiB 32-bit BAR");
        assertEquals(0, read32(f, 0x14), "no BAR1: all-ones does not stick");
        assertEquals(0xfff0000c, read32(f, 0x18), "1 MiB 64-bit prefetchable, lower half");
        assertEquals(0xffffffff, read32(f, 0x1c), "1 MiB 64-bit BAR, upper half is all address");
        assertEquals(0xffffffe1, read32(f, 0x20), "32-byte I/O BAR");
        assertEquals(0, read32(f, 0x24), "no BAR5");
    }

    @Test
    void bar_takes_an_address_and_keeps_type_bits() {
        PciFunction f = threeKindsOfBar();
        write32(f, 0x10, 0xfebf1234);
        assertEquals(0xfebf1000, read32(f, 0x10));
        write32(f, 0x18, 0xe0000000);
        write32(f, 0x1c, 0x00000001);
        assertEquals(0xe000000c, read32(f, 0x18));
        assertEquals(0x1, read32(f, 0x1c));
        write32(f, 0x20, 0xc043);
        assertEquals(0xc041, read32(f, 0x20));
    }

    @Test
    void large_64bit_bar_has_size_bits_in_upper_half() {
        PciFunction f = base().bar(0, Bar.memory64(1L << 34, false, RegionHandler.NONE)).build();
        write32(f, 0x10, -1);
        write32(f, 0x14, -1);
        assertEquals(0x4, read32(f, 0x10), "16 GiB: no address bits in the lower dword");
        assertEquals(0xfffffffc, read32(f, 0x14));
    }

    @Test
    void rom_bar_reads_zero_even_after_sizing() {
        PciFunction f = threeKindsOfBar();
        write32(f, PCI_ROM_ADDRESS, 0xfffff800);
        assertEquals(0, read32(f, PCI_ROM_ADDRESS));
        write32(f, PCI_ROM_ADDRESS, -1);
        assertEquals(0, read32(f, PCI_ROM_ADDRESS));
    }

    @Test
    void command_takes_only_implemented_bits() {
        PciFunction memOnly = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).build();
        write16(memOnly, PCI_COMMAND, 0xffff);
        assertEquals(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR
                | PCI_COMMAND_INTX_DISABLE, read16(memOnly, PCI_COMMAND), "no I/O BAR: I/O Space Enable is hardwired 0");
        assertTrue(memOnly.memorySpaceEnabled());
        assertTrue(memOnly.busMasterEnabled());
        write16(memOnly, PCI_COMMAND, 0);
        assertEquals(0, read16(memOnly, PCI_COMMAND));
        assertFalse(memOnly.memorySpaceEnabled());

        PciFunction both = threeKindsOfBar();
        write16(both, PCI_COMMAND, PCI_COMMAND_IO);
        assertEquals(PCI_COMMAND_IO, read16(both, PCI_COMMAND));
    }

    @Test
    void status_rw1c_bits_clear_on_one_and_read_only_bits_stay() {
        PciFunction f = base().powerManagement().bar(0, Bar.memory32(4096, RegionHandler.NONE)).build();
        assertEquals(PCI_STATUS_CAP_LIST, read16(f, PCI_STATUS));
        write16(f, PCI_STATUS, 0xffff);
        assertEquals(PCI_STATUS_CAP_LIST, read16(f, PCI_STATUS), "writing ones sets nothing, CAP_LIST stays");

        // errors the function recorded (Signaled Target Abort, Detected Parity Error) and a pending INTx
        f.configSpace().set16(PCI_STATUS, PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT | 0x0800 | 0x8000);
        write16(f, PCI_STATUS, 0x0800);
        assertEquals(PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT | 0x8000, read16(f, PCI_STATUS),
                "only the bit written as 1 clears; Interrupt Status is read-only");
        write16(f, PCI_STATUS, 0x8000 | PCI_STATUS_INTERRUPT | PCI_STATUS_CAP_LIST);
        assertEquals(PCI_STATUS_CAP_LIST | PCI_STATUS_INTERRUPT, read16(f, PCI_STATUS));
    }

    @Test
    void identity_registers_are_read_only_and_line_is_writable() {
        PciFunction f = base().subsystem(0x1af4, 0x1100).classCode(0x01, 0x08, 0x02).revision(7).interruptPin(1)
                .bar(0, Bar.memory32(4096, RegionHandler.NONE)).build();
        byte[] ones = new byte[0x40];
        java.util.Arrays.fill(ones, (byte) 0xff);
        byte[] before = new byte[0x40];
        f.configRead(0, before, 0, 0x40);
        // a blind all-ones write of the header except BARs (sizing is tested elsewhere)
        f.configWrite(0, ones, 0, 4);
        f.configWrite(8, ones, 0, 8);
        f.configWrite(0x28, ones, 0, 0x18);
        assertEquals(0x1b36, read16(f, PCI_VENDOR_ID));
        assertEquals(0x11fe, read16(f, PCI_DEVICE_ID));
        assertEquals(0x07, read8(f, PCI_REVISION_ID));
        assertEquals(0x010802, read32(f, PCI_REVISION_ID) >>> 8);
        assertEquals(0xff, read8(f, PCI_CACHE_LINE_SIZE), "Cache Line Size is read-write");
        assertEquals(0, read8(f, PCI_LATENCY_TIMER), "PCIe: Latency Timer is hardwired 0");
        assertEquals(0, read8(f, PCI_HEADER_TYPE), "type 0, single function");
        assertEquals(0, read8(f, PCI_BIST));
        assertEquals(0x1af4, read16(f, PCI_SUBSYSTEM_VENDOR_ID));
        assertEquals(0x1100, read16(f, PCI_SUBSYSTEM_ID));
        assertEquals(0xff, read8(f, PCI_INTERRUPT_LINE), "Interrupt Line is read-write");
        assertEquals(1, read8(f, PCI_INTERRUPT_PIN), "Interrupt Pin is read-only");
        assertEquals(before[PCI_CAPABILITY_LIST], (byte) read8(f, PCI_CAPABILITY_LIST));
    }

    @Test
    void any_byte_range_reads_the_same_bytes_as_the_whole_space() {
        PciFunction f = base().bar(0, Bar.memory32(4096, RegionHandler.NONE)).powerManagement()
                .msix(8, 0, 0x800, 0, 0xc00).pcieEndpoint(true)
                .extendedCapability(PCI_EXT_CAP_ID_DSN, 1, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}).build();
        assertEquals(4096, f.configSize());
        byte[] whole = new byte[4096];
        f.configRead(0, whole, 0, 4096);
        Random r = new Random(11);
        for (int i = 0; i < 500; i++) {
            int off = r.nextInt(4096);
            int len = r.nextInt(4096 - off + 1);
            byte[] part = new byte[len + 3];
            f.configRead(off, part, 3, len);
            for (int j = 0; j < len; j++) {
                assertEquals(whole[off + j], part[3 + j], "byte " + (off + j) + " read at " + off + "+" + len);
            }
        }
    }

    @Test
    void config_accesses_outside_the_space_are_rejected() {
        PciFunction small = base().build();
        assertEquals(256, small.configSize(), "no PCIe capability: conventional 256-byte config space");
        byte[] b = new byte[8];
        assertThrows(IllegalArgumentException.class, () -> small.configRead(254, b, 0, 4));
        assertThrows(IllegalArgumentException.class, () -> small.configWrite(256, b, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> small.configRead(-1, b, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> small.configRead(0, b, 0, -1));
        assertThrows(IndexOutOfBoundsException.class, () -> small.configRead(0, b, 6, 4));
        small.configRead(252, b, 0, 4);
        small.configWrite(0, b, 0, 0);
    }

    @Test
    void reset_restores_power_on_values() {
        PciFunction f = threeKindsOfBar();
        byte[] powerOn = new byte[256];
        f.configRead(0, powerOn, 0, 256);
        write32(f, 0x10, 0xfebf0000);
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        write(f, PCI_INTERRUPT_LINE, 1, 11);
        f.resetConfig();
        byte[] after = new byte[256];
        f.configRead(0, after, 0, 256);
        assertArrayEquals(powerOn, after);
        assertFalse(f.busMasterEnabled());
    }

    @Test
    void bus_master_changes_reach_the_listener_once_each() {
        PciFunction f = threeKindsOfBar();
        RecordingListener l = new RecordingListener();
        f.setListener(l);
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_SERR);
        write(f, PCI_COMMAND, 1, PCI_COMMAND_MEMORY);
        write16(f, PCI_COMMAND, PCI_COMMAND_MASTER);
        f.resetConfig();
        assertEquals(java.util.List.of("bme=true", "bme=false", "bme=true", "bme=false"), l.calls);
    }
}
