package io.iovalab.bench.iommu;

import io.iovalab.iommu.IovaSpace;
import io.iovalab.iommu.MapException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/** One 4 KiB DMA_MAP followed by its DMA_UNMAP (what dma_iova_link/unlink cost the model), with 100k maps live. */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class MapUnmapBench {
    static final long BASE = 0x1_0000_0000L;
    static final int LIVE = 100_000;
    IovaSpace space;
    TestMemory mem;
    TreeMap<Long, long[]> baseline;
    long next;

    @Setup(Level.Trial)
    public void setup() throws MapException {
        mem = new TestMemory();
        space = new IovaSpace("bench", null);
        baseline = new TreeMap<>();
        for (int i = 0; i < LIVE; i++) {
            space.map(BASE + 4096L * i, 4096, mem, 0, true, true);
            baseline.put(BASE + 4096L * i, new long[] {4096, 0});
        }
    }

    @Benchmark
    public long iovaSpace() throws MapException {
        long iova = BASE + 4096L * (LIVE + (next++ & 0xffff));
        space.map(iova, 4096, mem, 0, true, true);
        return space.unmap(iova, 4096);
    }

    @Benchmark
    public Object treeMapBaseline() {
        long iova = BASE + 4096L * (LIVE + (next++ & 0xffff));
        baseline.put(iova, new long[] {4096, 0});
        return baseline.remove(iova);
    }
}
