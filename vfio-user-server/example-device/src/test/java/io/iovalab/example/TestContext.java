package io.iovalab.example;

import io.iovalab.iommu.Backing;
import io.iovalab.iommu.DmaAccess;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.spi.DeviceContext;
import io.iovalab.spi.SharedMemory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ThreadFactory;

/** The server's side of a device, reduced to what a unit test needs: a real IOVA space and threads. */
final class TestContext implements DeviceContext {
    final IovaSpace iova;

    TestContext(IovaSpace iova) {
        this.iova = iova;
    }

    @Override
    public String name() {
        return "dmacopy0";
    }

    @Override
    public DmaAccess dma() {
        return iova;
    }

    @Override
    public SharedMemory allocateShared(String purpose, long size) throws IOException {
        throw new IOException("no shared memory in unit tests");
    }

    @Override
    public ThreadFactory threads(String role) {
        return r -> {
            Thread t = new Thread(r, "dmacopy0-" + role);
            t.setDaemon(true);
            return t;
        };
    }

    /** Guest RAM: native memory in its own arena, as an mmapped guest file would be. */
    static final class Ram implements Backing, AutoCloseable {
        private final Arena arena = Arena.ofShared();
        final MemorySegment segment;

        Ram(long size) {
            segment = arena.allocate(size, 4096);
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
            return "test-ram(" + segment.byteSize() + ")";
        }

        @Override
        public void close() {
            arena.close();
        }
    }
}
