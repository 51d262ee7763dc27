package io.iovalab.iommu;

import java.io.IOException;
import java.lang.foreign.MemorySegment;

/**
 * Maps without an fd are served by VFIO_USER_DMA_READ/DMA_WRITE messages. Called from device
 * threads only (it blocks until the client answers), never from the message thread.
 */
public interface RemoteDma {
    void read(long iova, MemorySegment dst, long dstOffset, long length) throws IOException;

    void write(long iova, MemorySegment src, long srcOffset, long length) throws IOException;
}
