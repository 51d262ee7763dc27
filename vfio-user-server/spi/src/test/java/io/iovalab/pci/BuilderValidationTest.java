package io.iovalab.pci;

import io.iovalab.spi.SharedMemory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;

import static io.iovalab.pci.Cfg.base;
import static org.junit.jupiter.api.Assertions.*;

class BuilderValidationTest {

    private static void rejected(String fragment, Executable e) {
        IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, e);
        assertTrue(ex.getMessage().contains(fragment), "message '" + ex.getMessage() + "' lacks '" + fragment + "'");
    }

    private static Bar mem(long size) {
        return Bar.memory32(size, RegionHandler.NONE);
    }

    @Test
    void identity_values_must_fit_their_registers() {
        rejected("vendorId is not set", () -> PciFunction.builder().build());
        rejected("vendor id", () -> PciFunction.builder().vendorId(0xffff));
        rejected("device id", () -> base().deviceId(0x10000));
        rejected("subsystem vendor", () -> base().subsystem(-1, 0));
        rejected("base class", () -> base().classCode(0x100, 0, 0));
        rejected("revision", () -> base().revision(256));
        rejected("interrupt pin", () -> base().interruptPin(5));
    }

    @Test
    void bar_indices_and_64bit_pairs_are_checked() {
        rejected("BAR index 6", () -> base().bar(6, mem(4096)));
        rejected("BAR5 has no partner", () -> base().bar(5, Bar.memory64(4096, false, RegionHandler.NONE)));
        rejected("already taken", () -> base().bar(0, mem(4096)).bar(0, mem(4096)));
        rejected("upper half of 64-bit BAR0", () -> base().bar(0, Bar.memory64(4096, false, RegionHandler.NONE)).bar(1, mem(4096)));
        rejected("needed for the upper half", () -> base().bar(3, mem(4096)).bar(2, Bar.memory64(4096, false, RegionHandler.NONE)));
        rejected("no RegionHandler", () -> base().bar(0, Bar.memory32(4096, null)));
        rejected("power of two", () -> Bar.memory32(3000, RegionHandler.NONE));
        rejected("power of two", () -> Bar.io(2, RegionHandler.NONE));
    }

    @Test
    void msi_and_msix_parameters_are_checked() {
        rejected("power of two 1..32", () -> base().msi(3, false));
        rejected("power of two 1..32", () -> base().msi(64, false));
        rejected("1..2048", () -> base().msix(0, 0, 0, 0, 0x800));
        rejected("1..2048", () -> base().msix(2049, 0, 0, 0, 0x8000));
        rejected("8-byte aligned", () -> base().msix(4, 0, 4, 0, 0x800));
    }

    @Test
    void msix_table_and_pba_must_fit_in_existing_memory_bars() {
        rejected("BAR2, which does not exist", () -> base().bar(0, mem(4096)).msix(4, 2, 0, 0, 0x800).build());
        rejected("BAR1, which does not exist",
                () -> base().bar(0, Bar.memory64(8192, false, RegionHandler.NONE)).msix(4, 0, 0, 1, 0x800).build());
        rejected("an I/O BAR", () -> base().bar(0, mem(4096)).bar(1, Bar.io(256, RegionHandler.NONE))
                .msix(4, 1, 0, 0, 0x800).build());
        rejected("table (0xf80+0x100) does not fit in BAR0", () -> base().bar(0, mem(4096)).msix(16, 0, 0xf80, 0, 0).build());
        rejected("PBA", () -> base().bar(0, mem(4096)).msix(16, 0, 0, 0, 0x1000).build());
        rejected("overlap", () -> base().bar(0, mem(4096)).msix(16, 0, 0, 0, 0xf8).build());
        base().bar(0, mem(4096)).msix(16, 0, 0, 0, 0x100).build(); // adjacent is fine
    }

    private record TestShared(MemorySegment segment) implements SharedMemory {
        @Override
        public int fd() {
            return -1;
        }

        @Override
        public void close() {
        }
    }

    @Test
    void msix_table_must_stay_out_of_mmap_areas() {
        try (Arena arena = Arena.ofConfined()) {
            Bar bar = Bar.memory32(16384, RegionHandler.NONE)
                    .withMmap(new TestShared(arena.allocate(16384)), List.of(new MmapArea(0x1000, 0x1000)));
            rejected("inside an mmap area", () -> base().bar(0, bar).msix(4, 0, 0x1000, 0, 0x3000).build());
            base().bar(0, bar).msix(4, 0, 0x2000, 0, 0x3000).build();
        }
        rejected("page aligned", () -> new MmapArea(0x800, 0x1000));
    }

    @Test
    void extended_capabilities_are_checked() {
        rejected("need a PCI Express capability", () -> base().extendedCapability(3, 1, new byte[8]).build());
        rejected("multiple of 4", () -> base().extendedCapability(3, 1, new byte[6]));
        rejected("version 16", () -> base().extendedCapability(3, 16, new byte[8]));
        rejected("id 0x0", () -> base().extendedCapability(0, 1, new byte[8]));
        rejected("does not fit", () -> base().pcieEndpoint(false)
                .extendedCapability(3, 1, new byte[2000]).extendedCapability(3, 1, new byte[2000]).build());
    }

    @Test
    void builder_keeps_its_own_copy_of_a_capability_body() {
        byte[] body = {1, 2, 3, 4, 5, 6, 7, 8};
        PciFunction.Builder b = base().pcieEndpoint(false).extendedCapability(3, 1, body);
        body[0] = 99;
        assertEquals(1, Cfg.read8(b.build(), 0x104));
    }
}
