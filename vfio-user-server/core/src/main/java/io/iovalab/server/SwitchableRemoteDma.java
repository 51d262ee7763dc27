package io.iovalab.server;

import io.iovalab.iommu.RemoteDma;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/** The device keeps one IOVA space across clients; DMA messages go to whichever client is connected. */
final class SwitchableRemoteDma implements RemoteDma {
    private volatile RemoteDmaChannel current;

    void set(RemoteDmaChannel channel) {
        current = channel;
    }

    private RemoteDmaChannel channel() throws IOException {
        RemoteDmaChannel c = current;
        if (c == null) {
            throw new IOException("no client connected");
        }
        return c;
    }

    @Override
    public void read(long iova, MemorySegment dst, long dstOffset, long length) throws IOException {
        channel().read(iova, dst, dstOffset, length);
    }

    @Override
    public void write(long iova, MemorySegment src, long srcOffset, long length) throws IOException {
        channel().write(iova, src, srcOffset, length);
    }
}
