package io.iovalab.bench.iommu;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.iommu.IovaSpace;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * Translate hit at N 4 KiB maps (the vIOMMU case: one DMA_MAP per page), random pages, each
 * access an 8-byte read through the IOMMU model; beside a TreeMap floorEntry + the same read, and
 * beside the floor of this access pattern on this machine: a flat array indexed by page number
 * (no checks, no safety) + the same read. The read of random guest memory is part of every
 * variant, so the floor says how much of a figure is the memory rather than the translation.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class TranslateBench {
    static final long BASE = 0x1_0000_0000L;

    @Param({"1000000"})
    int mappings;

    IovaSpace space;
    DmaCommand dma;
    TreeMap<Long, long[]> baseline;
    MemorySegment memory;
    long[] flat;
    long[] addresses;
    int next;

    @Setup(Level.Trial)
    public void setup() throws Exception {
        TestMemory mem = new TestMemory();
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
        dma = space.newCommand().start(0, DmaCommand.NO_COMMAND);
        // at least one address per map, so the lookups range over all of them rather than a cached subset
        addresses = new long[Integer.highestOneBit(Math.max(mappings, 2) - 1) << 1];
        for (int i = 0; i < addresses.length; i++) {
            addresses[i] = BASE + 4096L * r.nextInt(mappings) + 8 * r.nextInt(512);
        }
    }

    @Benchmark
    public long iovaSpace() throws DmaFault {
        long a = addresses[next++ & (addresses.length - 1)];
        return dma.readLong(a);
    }

    @Benchmark
    public long treeMapBaseline() {
        long a = addresses[next++ & (addresses.length - 1)];
        Map.Entry<Long, long[]> e = baseline.floorEntry(a);
        long[] m = e.getValue();
        if (a - e.getKey() >= m[0]) {
            throw new IllegalStateException();
        }
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, m[1] + (a - e.getKey()));
    }

    @Benchmark
    public long flatArrayFloor() {
        long a = addresses[next++ & (addresses.length - 1)];
        return memory.get(ValueLayout.JAVA_LONG_UNALIGNED, flat[(int) ((a - BASE) >>> 12)] + (a & 4095));
    }
}
