package io.iovalab.iommu;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What is mapped: maps of up to {@code tableMaxPages} pages as entries of a {@link PageTable}
 * (ids and timestamps in {@link MapIds}, backings numbered by {@link BackingSlots}), bigger ones
 * whole in {@link LargeMaps}. Keeps the backing references a map holds. Removing a map only takes
 * its translations away; what it holds is let go by {@link #releaseRemoved} once the caller has
 * waited out the accesses that may still use it. Writer side under the IOVA space's lock;
 * readers use {@link #table}, {@link #slots} and {@link #large} lock-free.
 */
final class MapStore {
    final PageTable table = new PageTable();
    final BackingSlots slots = new BackingSlots();
    final LargeMaps large = new LargeMaps();
    private final MapIds ids = new MapIds();
    private final long tableMaxPages;
    private volatile long live;

    // removed, not yet released: (id << 32 | slot) of table maps, and whole maps
    private long[] removed = new long[16];
    private int removedCount;
    private final List<Mapping> removedLarge = new ArrayList<>();

    MapStore(long tableMaxPages) {
        this.tableMaxPages = tableMaxPages;
    }

    long live() {
        return live;
    }

    /** Fails with EEXIST when [iova, last] overlaps a live map. */
    void checkFree(long iova, long size, long last) throws MapException {
        long taken = 0;
        long takenSize = 0; // stays 0 when the range is free: no map is empty
        Mapping m = large.overlapping(iova, last);
        if (m != null) {
            taken = m.iova;
            takenSize = m.size;
        } else {
            long p = table.next(iova >>> Pte.PAGE_SHIFT, last >>> Pte.PAGE_SHIFT);
            if (p >= 0) {
                long first = extentStart(p);
                taken = first << Pte.PAGE_SHIFT;
                takenSize = (extentLast(p, Pte.LAST_PAGE) - first + 1) << Pte.PAGE_SHIFT;
            }
        }
        if (takenSize != 0) {
            throw new MapException(MapException.EEXIST, "DMA_MAP 0x" + Long.toHexString(iova) + "+0x"
                    + Long.toHexString(size) + " overlaps the map 0x" + Long.toHexString(taken) + "+0x" + Long.toHexString(takenSize));
        }
    }

    /** First page of the table map owning {@code page}. */
    private long extentStart(long page) {
        int id = table.owner(page);
        while (page > 0 && table.owner(page - 1) == id) {
            page--;
        }
        return page;
    }

    /** Last page, at most {@code limit}, of the table map owning {@code page}. */
    private long extentLast(long page, long limit) {
        int id = table.owner(page);
        while (page < limit && table.owner(page + 1) == id) {
            page++;
        }
        return page;
    }

    /** Adds a map the caller checked; retains its backing once. */
    void add(long iova, long size, Backing backing, long offset, boolean readable, boolean writable, long now) {
        long pages = size >>> Pte.PAGE_SHIFT;
        int slot = pages <= tableMaxPages ? slots.acquire(backing) : -1;
        if (slot >= 0) {
            int id = ids.allocate(now);
            long first = iova >>> Pte.PAGE_SHIFT;
            for (long k = 0; k < pages; k++) {
                table.set(first + k, Pte.of(slot, backing == null ? 0 : offset + (k << Pte.PAGE_SHIFT), readable, writable), id);
            }
        } else {
            large.add(new Mapping(iova, size, backing, offset, readable, writable, now));
        }
        if (backing != null) {
            backing.retain();
        }
        live++;
    }

    /**
     * Takes every translation of the page-aligned [from, last] away; maps straddling an edge keep
     * their outside parts as maps of their own. Returns the bytes removed.
     */
    long remove(long from, long last) {
        return removeFromTable(from >>> Pte.PAGE_SHIFT, last >>> Pte.PAGE_SHIFT) + removeFromLarge(from, last);
    }

    private long removeFromTable(long first, long last) {
        long bytes = 0;
        for (long p = table.next(first, last); p >= 0; ) {
            int id = table.owner(p);
            long pte = table.pte(p);
            long q = extentLast(p, last);
            // what survives outside the range becomes a map of its own; its entries never change
            if (p == first && p > 0 && table.owner(p - 1) == id) {
                splitOff(p - 1, -1, id, pte);
            }
            if (q == last && q < Pte.LAST_PAGE && table.owner(q + 1) == id) {
                splitOff(q + 1, 1, id, pte);
            }
            for (long k = p; k <= q; k++) {
                table.clear(k);
            }
            bytes += (q - p + 1) << Pte.PAGE_SHIFT;
            removed(id, Pte.slot(pte));
            p = q == last ? -1 : table.next(q + 1, last);
        }
        return bytes;
    }

    /** Gives the pages of map {@code id} from {@code page} on, walking by {@code step}, a new id. */
    private void splitOff(long page, int step, int id, long pte) {
        int piece = ids.allocate(ids.mappedAt(id));
        for (long k = page; k >= 0 && k <= Pte.LAST_PAGE && table.owner(k) == id; k += step) {
            table.relabel(k, piece);
        }
        int slot = Pte.slot(pte);
        slots.retain(slot);
        Backing b = slots.backing(slot);
        if (b != null) {
            b.retain();
        }
        live++;
    }

    private void removed(int id, int slot) {
        if (removedCount == removed.length) {
            removed = Arrays.copyOf(removed, removed.length * 2);
        }
        removed[removedCount++] = (long) id << 32 | slot;
        live--;
    }

    private long removeFromLarge(long iova, long last) {
        Mapping[] all = large.all();
        if (all.length == 0) {
            return 0;
        }
        List<Mapping> keep = new ArrayList<>(all.length + 1);
        long bytes = 0;
        for (Mapping m : all) {
            if (Long.compareUnsigned(m.iova, last) > 0 || Long.compareUnsigned(m.end() - 1, iova) < 0) {
                keep.add(m);
                continue;
            }
            long cutFrom = Long.compareUnsigned(m.iova, iova) < 0 ? iova : m.iova;
            long cutLast = Long.compareUnsigned(m.end() - 1, last) > 0 ? last : m.end() - 1;
            if (Long.compareUnsigned(m.iova, iova) < 0) {
                keep.add(survivor(m.slice(m.iova, iova)));
            }
            if (Long.compareUnsigned(m.end() - 1, last) > 0) {
                keep.add(survivor(m.slice(last + 1, m.end())));
            }
            removedLarge.add(m);
            live--;
            bytes += cutLast - cutFrom + 1;
        }
        if (keep.size() != all.length || bytes != 0) {
            large.replace(keep.toArray(new Mapping[0])); // survivors keep their order; one store, so nothing blinks
        }
        return bytes;
    }

    private Mapping survivor(Mapping piece) {
        if (piece.backing != null) {
            piece.backing.retain();
        }
        live++;
        return piece;
    }

    /** Takes every translation away, noting each map's range in {@code history}. Returns the bytes removed. */
    long removeAll(UnmapHistory history, long now) {
        long bytes = 0;
        for (long p = table.next(0, Pte.LAST_PAGE); p >= 0; ) {
            int id = table.owner(p);
            long pte = table.pte(p);
            long q = extentLast(p, Pte.LAST_PAGE);
            for (long k = p; k <= q; k++) {
                table.clear(k);
            }
            bytes += (q - p + 1) << Pte.PAGE_SHIFT;
            history.add(p << Pte.PAGE_SHIFT, (q + 1) << Pte.PAGE_SHIFT, now);
            removed(id, Pte.slot(pte));
            p = q == Pte.LAST_PAGE ? -1 : table.next(q + 1, Pte.LAST_PAGE);
        }
        for (Mapping m : large.all()) {
            bytes += m.size;
            history.add(m.iova, m.end(), now);
            removedLarge.add(m);
            live--;
        }
        large.replace(new Mapping[0]);
        return bytes;
    }

    void trim() {
        table.trim();
    }

    /**
     * Lets go of what the removed maps held — ids, slots, backing references (the last may
     * munmap) — once no access can still use them. Returns how many maps that was.
     */
    int releaseRemoved(long now, Log2Histogram lifetimes) {
        for (int i = 0; i < removedCount; i++) {
            int id = (int) (removed[i] >>> 32);
            int slot = (int) removed[i];
            lifetimes.add((now - ids.mappedAt(id)) / 1000);
            ids.free(id);
            Backing b = slots.backing(slot);
            slots.release(slot);
            if (b != null) {
                b.release();
            }
        }
        for (Mapping m : removedLarge) {
            lifetimes.add((now - m.mappedAtNanos) / 1000);
            if (m.backing != null) {
                m.backing.release();
            }
        }
        int n = removedCount + removedLarge.size();
        removedCount = 0;
        removedLarge.clear();
        return n;
    }

    /** The current map in IOVA order. */
    List<MapEntry> dump() {
        List<MapEntry> out = new ArrayList<>();
        Mapping[] big = large.all();
        int b = 0;
        for (long p = table.next(0, Pte.LAST_PAGE); p >= 0; ) {
            long q = extentLast(p, Pte.LAST_PAGE);
            long iova = p << Pte.PAGE_SHIFT;
            while (b < big.length && Long.compareUnsigned(big[b].iova, iova) < 0) {
                out.add(big[b++].toEntry());
            }
            long pte = table.pte(p);
            Backing backing = slots.backing(Pte.slot(pte));
            out.add(new MapEntry(iova, (q - p + 1) << Pte.PAGE_SHIFT,
                    backing == null ? "remote (DMA_READ/DMA_WRITE)" : backing.describe(),
                    backing == null ? 0 : Pte.offset(pte), Pte.allows(pte, false), Pte.allows(pte, true),
                    ids.mappedAt(table.owner(p))));
            p = q == Pte.LAST_PAGE ? -1 : table.next(q + 1, Pte.LAST_PAGE);
        }
        while (b < big.length) {
            out.add(big[b++].toEntry());
        }
        return out;
    }
}
