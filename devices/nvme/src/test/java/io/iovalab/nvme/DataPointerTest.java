package io.iovalab.nvme;

import io.iovalab.iommu.Backing;
import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.iommu.Fault;
import io.iovalab.iommu.IovaSpace;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

/** PRP lists and SGLs as a host writes them, including the adversarial ones a guest can write. */
class DataPointerTest {
    static final long BASE = 0x100000;
    Arena arena;
    MemorySegment mem;
    IovaSpace space;
    DmaCommand dma;
    final DataList out = new DataList();

    @BeforeEach
    void setUp() throws Exception {
        arena = Arena.ofShared();
        mem = arena.allocate(1 << 20, 4096);
        Backing b = new Backing() {
            @Override
            public MemorySegment segment() {
                return mem;
            }

            @Override
            public void retain() {
            }

            @Override
            public void release() {
            }

            @Override
            public String describe() {
                return "test";
            }
        };
        space = new IovaSpace("nvme-test", null);
        space.setBusMasterEnabled(true);
        space.map(BASE, 1 << 20, b, 0, true, true);
        dma = space.newCommand().start(1, 1);
    }

    @AfterEach
    void tearDown() {
        space.close();
        arena.close();
    }

    void put(long iova, long value) {
        mem.set(ValueLayout.JAVA_LONG_UNALIGNED, iova - BASE, value);
    }

    void sglDescriptor(long at, long addr, int len, int type) {
        put(at, addr);
        mem.set(ValueLayout.JAVA_INT_UNALIGNED, at - BASE + 8, len);
        mem.set(ValueLayout.JAVA_BYTE, at - BASE + 15, (byte) (type << 4));
    }

    @Test
    void prp_list_chains_to_the_next_page_from_its_last_entry() throws Exception {
        // 2 MiB would need 512 entries: PRP1 + 511 in the first list page (last entry = chain) + rest
        long len = 600L * 4096;
        long list1 = BASE + 0x1000;
        long list2 = BASE + 0x2000;
        for (int i = 0; i < 511; i++) {
            put(list1 + 8L * i, 0x4000_0000L + 4096L * (i + 1));
        }
        put(list1 + 8 * 511, list2);
        for (int i = 0; i < 88; i++) {
            put(list2 + 8L * i, 0x4000_0000L + 4096L * (512 + i));
        }
        DataPointer.prp(dma, 0x4000_0000L, list1, len, out);
        assertEquals(1, out.size, "all pages consecutive: one piece");
        assertEquals(len, out.total);
        assertEquals(0x4000_0000L, out.iova[0]);
    }

    @Test
    void misaligned_prp_entries_are_invalid_prp_offset() {
        NvmeError e = assertThrows(NvmeError.class, () -> DataPointer.prp(dma, BASE + 0x10, BASE + 0x1234, 8192, out));
        assertEquals(Status.INVALID_PRP_OFFSET, e.status);
        put(BASE + 0x3000, BASE + 0x5008);
        put(BASE + 0x3008, BASE + 0x6000);
        e = assertThrows(NvmeError.class, () -> DataPointer.prp(dma, BASE + 0x4000, BASE + 0x3000, 3 * 4096, out));
        assertEquals(Status.INVALID_PRP_OFFSET, e.status);
    }

    @Test
    void a_prp_list_outside_the_map_is_a_dma_fault_with_its_iova() {
        DmaFault f = assertThrows(DmaFault.class, () -> DataPointer.prp(dma, BASE, 0x7000_0000L, 3 * 4096, out));
        assertEquals(Fault.Kind.UNMAPPED, f.fault().kind());
        assertEquals(0x7000_0000L, f.fault().faultIova());
    }

    @Test
    void sgl_last_segment_of_data_blocks_and_bit_buckets() throws Exception {
        long seg = BASE + 0x8000;
        sglDescriptor(seg, 0x5000_0000L, 1000, 0);
        sglDescriptor(seg + 16, 0, 24, 1);             // bit bucket: skipped on a read
        sglDescriptor(seg + 32, 0x6000_0000L, 3072, 0);
        DataPointer.sgl(dma, seg, 48, 3 << 4, 4096, true, out);
        assertEquals(3, out.size);
        assertTrue(out.bucket[1]);
        assertEquals(4096, out.total);
        NvmeError e = assertThrows(NvmeError.class, () -> DataPointer.sgl(dma, seg, 48, 3 << 4, 4096, false, out));
        assertEquals(Status.SGL_DESCRIPTOR_TYPE_INVALID, e.status, "bit bucket in a write");
    }

    @Test
    void an_sgl_segment_chain_that_loops_is_cut_off() {
        long seg = BASE + 0x9000;
        sglDescriptor(seg, 0x5000_0000L, 0, 0);
        sglDescriptor(seg + 16, seg, 32, 2);            // a Segment descriptor pointing back at itself
        NvmeError e = assertThrows(NvmeError.class, () -> DataPointer.sgl(dma, seg, 32, 2 << 4, 1 << 20, true, out));
        assertEquals(Status.INVALID_NUMBER_OF_SGL_DESCRIPTORS, e.status);
    }

    @Test
    void an_sgl_shorter_than_the_transfer_is_data_sgl_length_invalid() {
        NvmeError e = assertThrows(NvmeError.class, () -> DataPointer.sgl(dma, 0x5000_0000L, 512, 0, 4096, true, out));
        assertEquals(Status.DATA_SGL_LENGTH_INVALID, e.status);
        e = assertThrows(NvmeError.class, () -> DataPointer.sgl(dma, 0x5000_0000L, 4096, 0x5 << 4, 4096, true, out));
        assertEquals(Status.SGL_DESCRIPTOR_TYPE_INVALID, e.status, "keyed/unknown descriptor types");
    }
}
