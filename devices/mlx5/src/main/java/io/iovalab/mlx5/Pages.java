package io.iovalab.mlx5;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;

/**
 * The 4 KiB pages the driver lent the firmware with MANAGE_PAGES, by IOVA. The device never
 * invents an address: what it returns on reclaim is exactly what it was given, which is what the
 * driver's page tree (pagealloc.c free_4k) insists on.
 */
final class Pages {
    private final LinkedHashSet<Long> held = new LinkedHashSet<>();
    long given;
    long returned;
    long peak;
    /** Pages a device reset dropped without the driver taking them back. */
    long droppedByReset;

    boolean holds(long iova) {
        return held.contains(iova);
    }

    int held() {
        return held.size();
    }

    void give(List<Long> iovas) {
        held.addAll(iovas);
        given += iovas.size();
        peak = Math.max(peak, held.size());
    }

    /** Takes up to {@code max} pages back, oldest first. */
    List<Long> take(int max) {
        List<Long> out = new ArrayList<>();
        Iterator<Long> it = held.iterator();
        while (it.hasNext() && out.size() < max) {
            out.add(it.next());
            it.remove();
        }
        returned += out.size();
        return out;
    }

    void reset() {
        droppedByReset += held.size();
        held.clear();
    }
}
