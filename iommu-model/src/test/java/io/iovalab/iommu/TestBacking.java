package io.iovalab.iommu;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/** Native memory in its own shared arena, closed on the last release, like a mmapped guest file. */
final class TestBacking implements Backing {
    final Arena arena = Arena.ofShared();
    final MemorySegment segment;
    final AtomicInteger refs = new AtomicInteger(1);

    TestBacking(long size) {
        segment = arena.allocate(size, 4096);
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void retain() {
        refs.incrementAndGet();
    }

    @Override
    public void release() {
        if (refs.decrementAndGet() == 0) {
            arena.close();
        }
    }

    @Override
    public String describe() {
        return "test(" + segment.byteSize() + ")";
    }
}
