package io.iovalab.iommu;

import java.util.Arrays;

/**
 * Maps too big to spell out page by page (guest RAM mapped whole when there is no vIOMMU) or
 * whose backing the page table cannot name. There are few, so a sorted array replaced on every
 * change is enough: readers binary-search whichever array they loaded, lock-free.
 */
final class LargeMaps {
    private static final Mapping[] NONE = new Mapping[0];
    private volatile Mapping[] maps = NONE;

    /** The map holding {@code iova}, or null. Lock-free. */
    Mapping find(long iova) {
        Mapping[] a = maps;
        int lo = 0;
        int hi = a.length - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            Mapping m = a[mid];
            if (Long.compareUnsigned(iova, m.iova) < 0) {
                hi = mid - 1;
            } else if (m.contains(iova)) {
                return m;
            } else {
                lo = mid + 1;
            }
        }
        return null;
    }

    /** A map overlapping [iova, last], or null. */
    Mapping overlapping(long iova, long last) {
        for (Mapping m : maps) {
            if (Long.compareUnsigned(m.iova, last) <= 0 && Long.compareUnsigned(m.end() - 1, iova) >= 0) {
                return m;
            }
        }
        return null;
    }

    Mapping[] all() {
        return maps;
    }

    boolean isEmpty() {
        return maps.length == 0;
    }

    void replace(Mapping[] sorted) {
        maps = sorted;
    }

    void add(Mapping m) {
        Mapping[] a = Arrays.copyOf(maps, maps.length + 1);
        a[a.length - 1] = m;
        Arrays.sort(a, (x, y) -> Long.compareUnsigned(x.iova, y.iova));
        maps = a;
    }
}
