package io.iovalab.iommu;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static org.junit.jupiter.api.Assertions.*;

class IovaSpaceTest {
    @Test
    void faults_name_the_command_the_iova_and_when_the_range_was_unmapped() throws Exception {
        TestBacking b = new TestBacking(1 << 20);
        IovaSpace space = new IovaSpace("dev0", null);
        space.setBusMasterEnabled(true);
        DmaCommand dma = space.newCommand().start(3, 77);
        space.map(0x10000, 0x4000, b, 0, true, false);
        DmaFault perm = assertThrows(DmaFault.class, () -> dma.writeInt(0x10000, 1));
        assertEquals(Fault.Kind.PERMISSION, perm.fault().kind());
        assertEquals(3, perm.fault().queue());
        assertEquals(77, perm.fault().commandId());
        assertEquals("dev0", perm.fault().device());

        DmaFault hole = assertThrows(DmaFault.class, () -> dma.read(0x13000, new byte[0x2000], 0, 0x2000));
        assertEquals(Fault.Kind.HOLE, hole.fault().kind());
        assertEquals(0x14000, hole.fault().faultIova());

        space.unmap(0x10000, 0x4000);
        DmaFault after = assertThrows(DmaFault.class, () -> dma.readInt(0x11000));
        assertEquals(Fault.Kind.AFTER_UNMAP, after.fault().kind());
        assertTrue(after.fault().unmappedAtNanos() > 0);
        assertEquals(Fault.Kind.UNMAPPED, assertThrows(DmaFault.class, () -> dma.readInt(0x900000)).fault().kind());

        space.setBusMasterEnabled(false);
        space.map(0x10000, 0x1000, b, 0, true, true);
        assertEquals(Fault.Kind.BUS_MASTER_DISABLED, assertThrows(DmaFault.class, () -> dma.readInt(0x10000)).fault().kind());
        assertEquals(5, space.faults().total());
        assertEquals(5, space.faults().recent().size());
        space.close();
        b.release();
    }

    @Test
    void a_scatter_gather_walk_spans_adjacent_maps_with_scattered_backing() throws Exception {
        TestBacking b = new TestBacking(1 << 20);
        IovaSpace space = new IovaSpace("dev0", null);
        space.setBusMasterEnabled(true);
        // IOVA pages 0x40000.. backed by pages 7, 2, 5 of the file: contiguous IOVA, scattered memory
        int[] backingPages = {7, 2, 5};
        for (int i = 0; i < 3; i++) {
            b.segment.asSlice(backingPages[i] * 4096L, 4096).fill((byte) (0x10 + i));
            space.map(0x40000 + 4096L * i, 4096, b, backingPages[i] * 4096L, true, true);
        }
        SgList sg = new SgList();
        sg.add(0x40000 + 100, 4096 - 100);
        sg.add(0x41000, 4096);
        sg.add(0x42000, 50);
        assertEquals(1, sg.size(), "adjacent pieces merge");
        MemorySegment dst = MemorySegment.ofArray(new byte[(int) sg.totalBytes()]);
        DmaCommand dma = space.newCommand().start(1, 1);
        dma.read(sg, dst, 0);
        dma.end();
        assertEquals(0x10, dst.get(ValueLayout.JAVA_BYTE, 0));
        assertEquals(0x11, dst.get(ValueLayout.JAVA_BYTE, 4096 - 100));
        assertEquals(0x12, dst.get(ValueLayout.JAVA_BYTE, sg.totalBytes() - 1));
        Statistics st = space.statistics();
        assertEquals(1, st.contiguousMultiPageCommands(), "one contiguous IOVA range");

        // the same data through two separate ranges: not contiguous
        dma.start(1, 2);
        dma.read(0x40000, dst, 0, 4096);
        dma.read(0x42000, dst, 0, 4096);
        dma.end();
        st = space.statistics();
        assertEquals(2, st.multiPageCommands());
        assertEquals(1, st.contiguousMultiPageCommands());
        assertEquals(1, st.rangesPerCommand()[1], "one command touched two ranges");
        space.close();
        b.release();
    }

    @Test
    void dma_tracing_switched_on_explicitly_survives_a_listener_leaving() throws Exception {
        TestBacking b = new TestBacking(1 << 16);
        IovaSpace space = new IovaSpace("dev0", null);
        space.setBusMasterEnabled(true);
        space.map(0x10000, 0x1000, b, 0, true, true);
        DmaCommand dma = space.newCommand().start(1, 7);
        space.trace().setDmaEnabled(true);
        java.util.function.Consumer<TraceEvent> watcher = e -> { };
        space.trace().subscribe(watcher);
        space.trace().unsubscribe(watcher); // e.g. an `iovalab trace` that was stopped
        dma.readInt(0x10000);
        assertTrue(space.trace().snapshot().stream().anyMatch(e -> e.kind() == TraceEvent.Kind.CONTROL_READ),
                "the post-mortem DMA trace asked for stays on");
        space.trace().setDmaEnabled(false);
        int before = space.trace().snapshot().size();
        dma.readInt(0x10000);
        assertEquals(before, space.trace().snapshot().size(), "off again when nobody listens");
        dma.end();
        space.close();
        b.release();
    }

    @Test
    void the_trace_ring_is_bounded_and_streams_to_subscribers() throws Exception {
        TestBacking b = new TestBacking(1 << 16);
        IovaSpace space = new IovaSpace("dev0", null);
        java.util.List<TraceEvent> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        space.trace().subscribe(seen::add);
        for (int i = 0; i < 10_000; i++) {
            space.map(0x1000L * i, 0x1000, b, 0, true, true);
        }
        assertEquals(10_000, seen.size());
        assertEquals(8192, space.trace().snapshot().size(), "ring keeps the newest 8192");
        assertEquals(10_000 - 1, space.trace().snapshot().getLast().seq());
        space.close();
        b.release();
    }

    @Test
    void an_unmap_cutting_into_a_page_unmaps_the_whole_page() throws Exception {
        TestBacking b = new TestBacking(1 << 20);
        IovaSpace space = new IovaSpace("dev0", null);
        space.setBusMasterEnabled(true);
        DmaCommand dma = space.newCommand();
        space.map(0x10000, 0x3000, b, 0, true, true);
        assertEquals(0x1000, space.unmap(0x11800, 0x10), "an IOMMU translates whole pages");
        assertEquals(2, space.liveMappings());
        assertEquals(Fault.Kind.AFTER_UNMAP, assertThrows(DmaFault.class, () -> dma.readInt(0x11000)).fault().kind());
        dma.readInt(0x10ffc);
        dma.readInt(0x12000);
        assertEquals(java.util.List.of(0x10000L, 0x12000L), space.dump().stream().map(MapEntry::iova).toList());
        space.close();
        assertEquals(1, b.refs.get(), "the split-off pieces released what they retained");
        b.release();
    }

    @Test
    void a_map_of_a_terabyte_is_held_whole_and_splits_like_any_other() throws Exception {
        IovaSpace space = new IovaSpace("dev0", null);
        space.setBusMasterEnabled(true);
        space.map(1L << 40, 1L << 40, null, 0, true, true);
        space.map((1L << 41) + 0x1000, 0x1000, null, 0, true, false);
        assertEquals(0x1000, space.unmap((1L << 40) + (1L << 39), 0x1000));
        assertEquals(3, space.liveMappings());
        var dump = space.dump();
        assertEquals(java.util.List.of(1L << 40, (1L << 40) + (1L << 39) + 0x1000, (1L << 41) + 0x1000),
                dump.stream().map(MapEntry::iova).toList(), "in IOVA order across both layouts");
        assertEquals((1L << 39) - 0x1000, dump.get(1).size());
        // no DMA_READ/WRITE channel: the access reaches the map and faults there, not as unmapped
        DmaCommand dma = space.newCommand();
        assertEquals(Fault.Kind.REMOTE_ERROR, assertThrows(DmaFault.class, () -> dma.readInt(1L << 40)).fault().kind());
        assertEquals(Fault.Kind.PERMISSION,
                assertThrows(DmaFault.class, () -> dma.writeInt((1L << 41) + 0x1000, 1)).fault().kind());
        assertEquals((1L << 40) - 0x1000 + 0x1000, space.unmapAll());
    }
}
