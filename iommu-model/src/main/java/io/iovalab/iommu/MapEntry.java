package io.iovalab.iommu;

/** One line of the current map, for dumps, {@code iovalab inspect} and the web view. */
public record MapEntry(long iova, long size, String backing, long offset, boolean readable, boolean writable,
                       long mappedAtNanos) {
}
