package io.iovalab.iommu;

import java.util.Arrays;

/**
 * Ids for the maps held in the page table, with the one thing an entry cannot hold: when the map
 * was made. A primitive array rather than an object per map keeps the heap cost per 4 KiB map to
 * a few bytes. Writer-only (under the IOVA space's lock). Id 0 means none.
 */
final class MapIds {
    private long[] mappedAt = new long[1024];
    private int nextFresh = 1;
    private int freeHead;

    int allocate(long mappedAtNanos) {
        int id;
        if (freeHead != 0) {
            id = freeHead;
            freeHead = (int) mappedAt[id]; // free ids chain through their timestamp slot
        } else {
            if (nextFresh == mappedAt.length) {
                mappedAt = Arrays.copyOf(mappedAt, mappedAt.length + (mappedAt.length >> 1));
            }
            id = nextFresh++;
        }
        mappedAt[id] = mappedAtNanos;
        return id;
    }

    long mappedAt(int id) {
        return mappedAt[id];
    }

    void free(int id) {
        mappedAt[id] = freeHead;
        freeHead = id;
    }
}
