package io.iovalab.pci;

import io.iovalab.spi.SharedMemory;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;

import static io.iovalab.pci.Cfg.*;
import static io.iovalab.pci.PciRegs.*;
import static org.junit.jupiter.api.Assertions.*;

class RegionAccessTest {

    private static PciFunction withHandler(RecordingHandler h) {
        return withHandlers(h, new RecordingHandler(16));
    }

    private static PciFunction withHandlers(RecordingHandler mem, RecordingHandler io) {
        PciFunction f = base().bar(0, Bar.memory32(4096, mem)).bar(1, Bar.io(16, io)).build();
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_IO);
        return f;
    }

    @Test
    void aligned_accesses_reach_the_handler_unchanged() {
        RecordingHandler h = new RecordingHandler(4096);
        PciFunction f = withHandler(h);
        f.regionWrite(0, 0x10, 8, 0x1122334455667788L);
        f.regionWrite(0, 0x20, 4, 0xdeadbeefL);
        f.regionWrite(0, 0x26, 2, 0xabcd);
        f.regionWrite(0, 0x29, 1, 0x5a);
        assertEquals(0x1122334455667788L, f.regionRead(0, 0x10, 8));
        assertEquals(0xdeadbeefL, f.regionRead(0, 0x20, 4));
        assertEquals(0xabcd, f.regionRead(0, 0x26, 2));
        assertEquals(0x5a, f.regionRead(0, 0x29, 1));
        assertEquals(List.of("w8@16", "w4@32", "w2@38", "w1@41", "r8@16", "r4@32", "r2@38", "r1@41"), h.accesses);
    }

    @Test
    void odd_widths_and_unaligned_accesses_are_split_into_aligned_pieces() {
        RecordingHandler h = new RecordingHandler(4096);
        PciFunction f = withHandler(h);
        f.regionWrite(0, 0x11, 7, 0x00aabbccddeeff11L);
        assertEquals(List.of("w1@17", "w2@18", "w4@20"), h.accesses);
        h.accesses.clear();
        assertEquals(0x00aabbccddeeff11L, f.regionRead(0, 0x11, 7));
        assertEquals(0xccddeeffL, f.regionRead(0, 0x12, 4), "unaligned dword");
        assertEquals(List.of("r1@17", "r2@18", "r4@20", "r2@18", "r2@20"), h.accesses);
        f.regionWrite(0, 0x101, 3, 0x030201);
        assertEquals(0x030201, f.regionRead(0, 0x101, 3));
        assertEquals(0x03020100L, f.regionRead(0, 0x100, 4));
    }

    @Test
    void accesses_beyond_the_bar_or_of_bad_width_are_rejected() {
        RecordingHandler h = new RecordingHandler(4096);
        PciFunction f = withHandler(h);
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(0, 4093, 4));
        assertThrows(IllegalArgumentException.class, () -> f.regionWrite(0, 4096, 1, 0));
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(0, -4, 4));
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(0, Long.MAX_VALUE, 8));
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(0, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(0, 0, 9));
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(2, 0, 4), "no BAR2");
        assertThrows(IllegalArgumentException.class, () -> f.regionRead(6, 0, 4));
        assertTrue(h.accesses.isEmpty());
        assertEquals(0, f.regionRead(0, 4092, 4));
    }

    @Test
    void decode_off_reads_all_ones_and_drops_writes() {
        RecordingHandler mem = new RecordingHandler(4096);
        RecordingHandler io = new RecordingHandler(16);
        PciFunction f = withHandlers(mem, io);
        write16(f, PCI_COMMAND, PCI_COMMAND_IO);
        assertEquals(0xffffffffL, f.regionRead(0, 0, 4));
        assertEquals(-1L, f.regionRead(0, 0, 8));
        assertEquals(0xffffffL, f.regionRead(0, 1, 3));
        f.regionWrite(0, 0, 4, 1);
        assertTrue(mem.accesses.isEmpty(), "memory decode off: the handler sees nothing");
        f.regionWrite(1, 0, 4, 0x1234);
        assertEquals(0x1234, f.regionRead(1, 0, 4), "I/O decode is still on for the I/O BAR");

        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        assertEquals(0xffff, f.regionRead(1, 0, 2), "I/O decode off");
        assertEquals(0, f.regionRead(0, 0, 4), "the dropped write never landed");
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
    void mmap_areas_are_served_from_shared_memory() {
        RecordingHandler h = new RecordingHandler(16384);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(16384, 4096);
            Bar bar = Bar.memory64(16384, false, h).withMmap(new TestShared(seg), List.of(new MmapArea(0x1000, 0x2000)));
            PciFunction f = base().bar(0, bar).build();
            write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);

            seg.set(ValueLayout.JAVA_INT_UNALIGNED, 0x1008, 0x12345678);
            assertEquals(0x12345678L, f.regionRead(0, 0x1008, 4), "a doorbell the guest stored through its mmap");
            f.regionWrite(0, 0x2ffc, 4, 0xcafef00dL);
            assertEquals(0xcafef00d, seg.get(ValueLayout.JAVA_INT_UNALIGNED, 0x2ffc));
            f.regionWrite(0, 0x0, 4, 7);
            f.regionRead(0, 0x3000, 4);
            assertEquals(List.of("m4@12284=cafef00d", "w4@0", "r4@12288"), h.accesses,
                    "trapped pages still go to the handler; a message write to a mapped page is stored, then announced");
        }
    }

    @Test
    void handler_bits_above_the_width_are_ignored() {
        RegionHandler sloppy = new RegionHandler() {
            @Override
            public long read(long offset, int width) {
                return -1L;
            }

            @Override
            public void write(long offset, int width, long value) {
            }
        };
        PciFunction f = base().bar(0, Bar.memory32(4096, sloppy)).build();
        write16(f, PCI_COMMAND, PCI_COMMAND_MEMORY);
        assertEquals(0xffff, f.regionRead(0, 2, 2));
        assertEquals(0xffffff, f.regionRead(0, 1, 3));
    }
}
