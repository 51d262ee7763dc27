package io.iovalab.bench.iommu;

import io.iovalab.iommu.Backing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** One shared native block standing in for the guest-RAM memfd all maps point into. */
final class TestMemory implements Backing {
    private final MemorySegment segment = Arena.ofShared().allocate(64L << 20, 4096);

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
