package io.iovalab.bench.iommu;

import io.iovalab.iommu.Backing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** One shared native block standing in for the guest-RAM memfd all maps point into. */
public final class TestMemory implements Backing {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment segment;

    TestMemory() {
        this(64L << 20);
    }

    public TestMemory(long bytes) {
        segment = arena.allocate(bytes, 4096);
    }

    /** Frees the block; only once nothing maps it any more. */
    public void close() {
        arena.close();
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void retain() {
    }

    @Override
    public void release() {
    }

    @Override
    public String describe() {
        return "bench";
    }
}
