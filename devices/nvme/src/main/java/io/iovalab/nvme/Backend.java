package io.iovalab.nvme;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.io.IOException;

/**
 * Where a namespace keeps its blocks. Transfers go straight between the backend and guest
 * memory through the IOMMU model; offsets and lengths are in bytes.
 */
interface Backend extends AutoCloseable {
    /** Backend → guest (a Read): {@code n} bytes at {@code offset} to {@code iova}. */
    void toGuest(DmaCommand dma, long offset, long iova, long n) throws DmaFault, IOException;

    /** Guest → backend (a Write). */
    void fromGuest(DmaCommand dma, long iova, long offset, long n) throws DmaFault, IOException;

    /** Reads {@code n} bytes at {@code offset} into {@code dst} (Compare). */
    void read(long offset, byte[] dst, int n) throws IOException;

    void zero(long offset, long n) throws IOException;

    /** Makes acknowledged writes durable (Flush, FUA). */
    void flush() throws IOException;

    long size();

    @Override
    void close();
}
