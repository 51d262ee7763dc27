package io.iovalab.nvme;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Reads return zeros, writes are fetched from the guest (as a device would) and dropped. */
final class NullBackend implements Backend {
    private final long size;
    private final MemorySegment sink = Arena.ofAuto().allocate(1 << 20, 4096);

    NullBackend(long size) {
        this.size = size;
    }

    @Override
    public void toGuest(DmaCommand dma, long offset, long iova, long n) throws DmaFault {
        dma.fill(iova, (byte) 0, n);
    }

    @Override
    public void fromGuest(DmaCommand dma, long iova, long offset, long n) throws DmaFault {
        for (long done = 0; done < n; ) {
            long c = Math.min(n - done, sink.byteSize());
            dma.read(iova + done, sink, 0, c);
            done += c;
        }
    }

    @Override
    public void read(long offset, byte[] dst, int n) {
        java.util.Arrays.fill(dst, 0, n, (byte) 0);
    }

    @Override
    public void zero(long offset, long n) {
    }

    @Override
    public void flush() {
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void close() {
    }
}
