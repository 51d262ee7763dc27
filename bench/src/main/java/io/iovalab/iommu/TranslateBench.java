package io.iovalab.iommu;

import io.iovalab.bench.iommu.TestMemory;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * N 4 KiB maps (the vIOMMU case: one DMA_MAP per page) scattered over 64 MiB of guest memory,
 * looked up at random pages. Two questions, each beside a TreeMap doing the same job:
 * <ul>
 * <li>translate: what the IOMMU model costs — the code a scalar access runs when it hits (bus master,
 * entry, permission, page-local, backing slot), up to the guest byte's place in its segment, without
 * touching guest memory. In the package of the model so it measures that code, not a copy of it.</li>
 * <li>access: translate plus an 8-byte read of that guest memory, beside the floor of this access
 * pattern on this machine (a flat array indexed by page number, no checks, the same read). Random
 * reads of 64 MiB miss the caches, so the access figures are mostly the memory's.</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TranslateBench {
    static final long BASE = 0x1_0000_0000L;

    @Param({"1000000"})
    int mappings;

    TestMemory mem;
    IovaSpace space;
    AccessHandle dma;
    TreeMap<Long, long[]> baseline;
    MemorySegment memory;
    long[] flat;
    long seed = 0x9E3779B97F4A7C15L;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        mem = new TestMemory(64L << 20);
        memory = mem.segment();
        long pages = memory.byteSize() / 4096;
        space = new IovaSpace("bench", null);
        space.setBusMasterEnabled(true);
        baseline = new TreeMap<>();
        flat = new long[mappings];
        SplittableRandom r = new SplittableRandom(1);
        for (int i = 0; i < mappings; i++) {
            long off = (r.nextLong(pages)) * 4096;
            space.map(BASE + 4096L * i, 4096, mem, off, true, true);
            baseline.put(BASE + 4096L * i, new long[] {4096, off});
            flat[i] = off;
        }
        dma = (AccessHandle) space.newCommand().start(0, DmaCommand.NO_COMMAND);
        // settle the heap the setup churned: concurrent GC work would otherwise share the two
        // cores with the first iterations and move the tables while they are measured
        System.gc();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        space.close();
        mem.close();
    }

    /**
     * A random 8-byte-aligned address in a random map (xorshift64, scaled by a multiply): computed
     * rather than read from a table, so the harness streams no memory through the caches the
     * lookups are measured in.
     */
    private long nextAddress() {
        long x = seed;
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
        seed = x;
        long map = ((x >>> 32) * mappings) >>> 32;
        return BASE + 4096L * map + ((x >>> 3) & 4088);
    }

    /** Native address of the guest byte; a miss would be a bug in the setup, not a figure. */
    @Benchmark
    public long translate() {
        long a = nextAddress();
        long pte = dma.direct(a, 8, Pte.READ);
        MemorySegment s = pte == 0 ? null : dma.segment(pte);
        if (s == null) {
            throw new IllegalStateException("miss at 0x" + Long.toHexString(a));
        }
        return s.address() + AccessHandle.offset(pte, a);
    }

    /** The baseline's translation: offset in guest memory of the byte at {@code a}. */
    private long treeMapOffset(long a) {
        Map.Entry<Long, long[]> e = baseline.floorEntry(a);
        long[] m = e.getValue();
        if (a - e.getKey() >= m[0]) {
            throw new IllegalStateException("miss at 0x" + Long.toHexString(a));
        }
        return m[1] + (a - e.getKey());
    }

    @Benchmark
    public long treeMapTranslate() {
        return memory.address() + treeMapOffset(nextAddress());
    }

    @Benchmark
    public long access() throws DmaFault {
        return dma.readLong(nextAddress());
    }

    @Benchmark
    public long treeMapAccess() {
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, treeMapOffset(nextAddress()));
    }

    @Benchmark
    public long flatArrayFloor() {
        long a = nextAddress();
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, flat[(int) ((a - BASE) >>> 12)] + (a & 4095));
    }
}
