package io.iovalab.iommu;

/**
 * One live map too large for the page table (see {@link LargeMaps}): [iova, iova+size) → backing
 * at offset, or remote. Immutable, so readers may use whichever version they loaded.
 */
final class Mapping {
    final long iova;
    final long size;
    final Backing backing;
    final long offset;
    final boolean readable;
    final boolean writable;
    final long mappedAtNanos;

    Mapping(long iova, long size, Backing backing, long offset, boolean readable, boolean writable, long mappedAtNanos) {
        this.iova = iova;
        this.size = size;
        this.backing = backing;
        this.offset = offset;
        this.readable = readable;
        this.writable = writable;
        this.mappedAtNanos = mappedAtNanos;
    }

    long end() {
        return iova + size;
    }

    boolean contains(long address) {
        return Long.compareUnsigned(address - iova, size) < 0;
    }

    /** The part [from, to) of this map as a new map over the same backing. */
    Mapping slice(long from, long to) {
        return new Mapping(from, to - from, backing, offset + (from - iova), readable, writable, mappedAtNanos);
    }

    MapEntry toEntry() {
        return new MapEntry(iova, size, backing == null ? "remote (DMA_READ/DMA_WRITE)" : backing.describe(),
                offset, readable, writable, mappedAtNanos);
    }
}
