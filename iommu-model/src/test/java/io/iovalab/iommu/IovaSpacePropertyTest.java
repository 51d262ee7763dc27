package io.iovalab.iommu;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterProperty;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Random sequences of map / unmap / unmap-all / access checked against a naive model: a map from
 * page number to (backing page, permissions).
 */
class IovaSpacePropertyTest {
    static final int PAGES = 64;        // IOVA pages 0..63 (×4 KiB), at a high base to exercise unsigned compares
    static final long BASE = 0xffff_f000_0000_0000L;
    static final int BACKING_PAGES = 32;

    sealed interface Op permits MapOp, UnmapOp, UnmapAllOp, ReadOp, WriteOp {
    }

    record MapOp(int page, int pages, int backingPage, boolean r, boolean w) implements Op {
    }

    record UnmapOp(int page, int pages) implements Op {
    }

    record UnmapAllOp() implements Op {
    }

    record ReadOp(int page, int offset, int length) implements Op {
    }

    record WriteOp(int page, int offset, int length, byte value) implements Op {
    }

    record Entry(int backingPage, boolean r, boolean w) {
    }

    TestBacking backing;

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> map = Combinators.combine(Arbitraries.integers().between(0, PAGES - 1), Arbitraries.integers().between(1, 8),
                Arbitraries.integers().between(0, BACKING_PAGES - 8), Arbitraries.of(true, false), Arbitraries.of(true, false))
                .as(MapOp::new);
        Arbitrary<Op> unmap = Combinators.combine(Arbitraries.integers().between(0, PAGES - 1), Arbitraries.integers().between(1, 16))
                .as(UnmapOp::new);
        Arbitrary<Op> read = Combinators.combine(Arbitraries.integers().between(0, PAGES - 1), Arbitraries.integers().between(0, 4095),
                Arbitraries.integers().between(1, 3 * 4096)).as(ReadOp::new);
        Arbitrary<Op> write = Combinators.combine(Arbitraries.integers().between(0, PAGES - 1), Arbitraries.integers().between(0, 4095),
                Arbitraries.integers().between(1, 3 * 4096), Arbitraries.bytes()).as(WriteOp::new);
        Arbitrary<Op> all = Arbitraries.just(new UnmapAllOp());
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(5, map), net.jqwik.api.Tuple.of(3, unmap), net.jqwik.api.Tuple.of(1, all),
                net.jqwik.api.Tuple.of(4, read), net.jqwik.api.Tuple.of(4, write)).list().ofMaxSize(60);
    }

    @AfterProperty
    void cleanup() {
        if (backing != null) {
            backing.release();
        }
    }

    @Property(tries = 300)
    void behaves_like_the_naive_model(@ForAll("ops") List<Op> ops) {
        check(ops, IovaSpace.TABLE_MAX_PAGES);
    }

    /** Maps of 1-2 pages go into the page table, longer ones stay whole: both layouts side by side. */
    @Property(tries = 300)
    void behaves_like_the_naive_model_with_both_layouts(@ForAll("ops") List<Op> ops) {
        check(ops, 2);
    }

    /** Every map stays whole, as the layout for big maps would hold it. */
    @Property(tries = 100)
    void behaves_like_the_naive_model_with_whole_maps_only(@ForAll("ops") List<Op> ops) {
        check(ops, 0);
    }

    private void check(List<Op> ops, long tableMaxPages) {
        backing = new TestBacking((long) BACKING_PAGES * 4096);
        MemorySegment mem = backing.segment;
        IovaSpace space = new IovaSpace("prop", null, Integer.MAX_VALUE, tableMaxPages);
        space.setBusMasterEnabled(true);
        DmaCommand dma = space.newCommand();
        Map<Integer, Entry> model = new HashMap<>();
        for (Op op : ops) {
            switch (op) {
                case MapOp m -> {
                    boolean overlap = false;
                    for (int p = m.page(); p < m.page() + m.pages(); p++) {
                        overlap |= model.containsKey(p);
                    }
                    try {
                        space.map(BASE + 4096L * m.page(), 4096L * m.pages(), backing, 4096L * m.backingPage(), m.r(), m.w());
                        assertFalse(overlap, "map over an existing map must fail with EEXIST");
                        for (int p = m.page(); p < m.page() + m.pages(); p++) {
                            model.put(p, new Entry(m.backingPage() + p - m.page(), m.r(), m.w()));
                        }
                    } catch (MapException e) {
                        assertTrue(overlap, "unexpected " + e.getMessage());
                        assertEquals(MapException.EEXIST, e.errno());
                    }
                }
                case UnmapOp u -> {
                    long expected = 0;
                    for (int p = u.page(); p < u.page() + u.pages(); p++) {
                        if (model.remove(p) != null) {
                            expected += 4096;
                        }
                    }
                    assertEquals(expected, space.unmap(BASE + 4096L * u.page(), 4096L * u.pages()));
                }
                case UnmapAllOp a -> {
                    long expected = 4096L * model.size();
                    model.clear();
                    assertEquals(expected, space.unmapAll());
                }
                case ReadOp r -> {
                    long iova = BASE + 4096L * r.page() + r.offset();
                    byte[] got = new byte[r.length()];
                    Fault.Kind want = expectedFault(model, iova, r.length(), false);
                    try {
                        dma.read(iova, got, 0, got.length);
                        assertNull(want, "read should have faulted with " + want);
                        for (int i = 0; i < got.length; i++) {
                            assertEquals(mem.get(ValueLayout.JAVA_BYTE, backingOffset(model, iova + i)), got[i]);
                        }
                    } catch (DmaFault f) {
                        assertNotNull(want, "unexpected fault " + f.fault());
                        assertTrue(sameOutcome(want, f.fault().kind()), "expected " + want + ", got " + f.fault());
                    }
                }
                case WriteOp w -> {
                    long iova = BASE + 4096L * w.page() + w.offset();
                    byte[] data = new byte[w.length()];
                    java.util.Arrays.fill(data, w.value());
                    Fault.Kind want = expectedFault(model, iova, w.length(), true);
                    try {
                        dma.write(iova, data, 0, data.length);
                        assertNull(want, "write should have faulted with " + want);
                        for (int i = 0; i < data.length; i++) {
                            assertEquals(w.value(), mem.get(ValueLayout.JAVA_BYTE, backingOffset(model, iova + i)));
                        }
                    } catch (DmaFault f) {
                        assertNotNull(want, "unexpected fault " + f.fault());
                        assertTrue(sameOutcome(want, f.fault().kind()), "expected " + want + ", got " + f.fault());
                    }
                }
            }
            assertEquals(model.size(), space.dump().stream().mapToLong(e -> e.size() / 4096).sum(), "pages mapped");
        }
        space.close();
        assertEquals(1, backing.refs.get(), "every retain was released");
    }

    /** The model's answer: null (succeeds) or the kind of fault at the first bad page. */
    static Fault.Kind expectedFault(Map<Integer, Entry> model, long iova, int length, boolean write) {
        for (long a = iova; a < iova + length; a = (a | 4095) + 1) {
            Entry e = model.get(page(a));
            if (e == null) {
                return a == iova ? Fault.Kind.UNMAPPED : Fault.Kind.HOLE;
            }
            if (write ? !e.w() : !e.r()) {
                return Fault.Kind.PERMISSION;
            }
        }
        return null;
    }

    /** A range unmapped earlier reports AFTER_UNMAP where the naive model says UNMAPPED or HOLE. */
    static boolean sameOutcome(Fault.Kind want, Fault.Kind got) {
        return want == got || (got == Fault.Kind.AFTER_UNMAP && (want == Fault.Kind.UNMAPPED || want == Fault.Kind.HOLE));
    }

    static int page(long iova) {
        return (int) ((iova - BASE) >>> 12);
    }

    static long backingOffset(Map<Integer, Entry> model, long iova) {
        return 4096L * model.get(page(iova)).backingPage() + (iova & 4095);
    }
}
