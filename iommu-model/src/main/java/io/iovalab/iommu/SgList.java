package io.iovalab.iommu;

import java.util.Arrays;

/**
 * A reusable list of (IOVA, length) pairs built from PRP entries or SGL descriptors.
 *
 * <p>Primitive arrays so that building one per command allocates nothing once grown.
 */
public final class SgList {
    private long[] iova = new long[16];
    private long[] length = new long[16];
    private int size;
    private long totalBytes;

    public void clear() {
        size = 0;
        totalBytes = 0;
    }

    /** Appends a piece; a piece that starts where the previous one ended is merged into it. */
    public void add(long address, long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative length " + bytes);
        }
        if (bytes == 0) {
            return;
        }
        if (size > 0 && iova[size - 1] + length[size - 1] == address) {
            length[size - 1] += bytes;
        } else {
            if (size == iova.length) {
                iova = Arrays.copyOf(iova, size * 2);
                length = Arrays.copyOf(length, size * 2);
            }
            iova[size] = address;
            length[size] = bytes;
            size++;
        }
        totalBytes += bytes;
    }

    public int size() {
        return size;
    }

    public long iova(int i) {
        return iova[i];
    }

    public long length(int i) {
        return length[i];
    }

    public long totalBytes() {
        return totalBytes;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("SgList[");
        for (int i = 0; i < size; i++) {
            sb.append(i == 0 ? "" : ", ").append("0x").append(Long.toHexString(iova[i]))
                    .append('+').append(length[i]);
        }
        return sb.append(']').toString();
    }
}
