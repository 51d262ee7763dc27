package io.iovalab.nvme;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Blocks in native memory: data moves between it and guest memory with one copy. */
final class RamBackend implements Backend {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment data;

    RamBackend(long size) {
        data = arena.allocate(size, 4096);
    }

    @Override
    public void toGuest(DmaCommand dma, long offset, long iova, long n) throws DmaFault {
        dma.write(iova, data, offset, n);
    }

    @Override
    public void fromGuest(DmaCommand dma, long iova, long offset, long n) throws DmaFault {
        dma.read(iova, data, offset, n);
    }

    @Override
    public void read(long offset, byte[] dst, int n) {
        MemorySegment.copy(data, ValueLayout.JAVA_BYTE, offset, dst, 0, n);
    }

    @Override
    public void zero(long offset, long n) {
        data.asSlice(offset, n).fill((byte) 0);
    }

    @Override
    public void flush() {
    }

    @Override
    public long size() {
        return data.byteSize();
    }

    @Override
    public void close() {
        arena.close();
    }
}
