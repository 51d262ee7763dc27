package io.iovalab.pci;

/** A page-aligned part of a BAR the client may mmap (VFIO_REGION_INFO_CAP_SPARSE_MMAP area). */
public record MmapArea(long offset, long size) {
    public MmapArea {
        if ((offset & 0xfff) != 0 || (size & 0xfff) != 0 || size <= 0) {
            throw new IllegalArgumentException("sparse mmap area must be page aligned and non-empty: "
                    + Long.toHexString(offset) + "+" + Long.toHexString(size));
        }
    }
}
