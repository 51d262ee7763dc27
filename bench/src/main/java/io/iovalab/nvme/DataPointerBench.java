package io.iovalab.nvme;

import io.iovalab.bench.iommu.TestMemory;
import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.IovaSpace;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;

/**
 * B3 (issue 11): the Data Pointer walk of a 128 KiB read as Linux lays it out — PRP1 + a PRP
 * list of 31 entries, or an SGL Last Segment of 32 Data Block descriptors — through the IOMMU
 * model ({@link DataPointer} with every spec check), beside a floor that reads the same 31 list
 * entries straight from memory with no translation and no checks. Lives in the device's package
 * because {@link DataPointer} is not public API.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class DataPointerBench {
    static final long BASE = 0x10_0000L;
    static final long LIST = BASE;
    static final long SGL = BASE + 0x1000;
    static final long DATA = BASE + 0x10000;
    static final int LEN = 128 << 10;

    TestMemory memory;
    MemorySegment ram;
    IovaSpace space;
    DmaCommand dma;
    final DataList list = new DataList();

    @Setup(Level.Trial)
    public void setup() throws Exception {
        memory = new TestMemory(1 << 20);
        ram = memory.segment();
        space = new IovaSpace("b3", null);
        space.setBusMasterEnabled(true);
        space.map(BASE, 1 << 20, memory, 0, true, true);
        // pages 1..31 of the buffer, every other page so nothing merges: the walk does all its work
        for (int i = 1; i < 32; i++) {
            ram.set(ValueLayout.JAVA_LONG, 8L * (i - 1), DATA + 8192L * i);
        }
        for (int i = 0; i < 32; i++) {
            long d = SGL - BASE + 16L * i;
            ram.set(ValueLayout.JAVA_LONG, d, DATA + 8192L * i);
            ram.set(ValueLayout.JAVA_INT, d + 8, 4096);
            ram.set(ValueLayout.JAVA_BYTE, d + 15, (byte) 0x00); // Data Block
        }
        dma = space.newCommand();
        dma.start(1, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        dma.end();
        space.close();
        memory.close();
    }

    @Benchmark
    public long prpList128k() throws Exception {
        DataPointer.prp(dma, DATA, LIST, LEN, list);
        return list.total + list.size;
    }

    @Benchmark
    public long sglSegment128k() throws Exception {
        DataPointer.sgl(dma, SGL, 32 * 16, 0x30, LEN, true, list); // Last Segment descriptor in SGL1
        return list.total + list.size;
    }

    /** The same 31 PRP entries read and summed with no IOMMU model and no checks. */
    @Benchmark
    public long floorPlainListRead() {
        long sum = DATA;
        for (int i = 0; i < 31; i++) {
            sum += ram.get(ValueLayout.JAVA_LONG, 8L * i);
        }
        return sum;
    }
}
