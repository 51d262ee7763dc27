package io.iovalab.iommu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A four-level radix table over 52-bit IOVA page numbers whose leaves are primitive arrays: a
 * lookup is three reference loads (cached when maps cluster) and one load of a packed {@link Pte}.
 * Beside each entry sits the id of the map that owns it, which only the writer reads (to find map
 * boundaries on unmap and dump).
 *
 * <p>One writer (the IOVA space, under its lock), any number of lock-free readers: children and
 * entries are published with release stores and read with acquire loads, so a reader sees either
 * nothing or a fully built level. Empty levels are dropped, but lazily: a map/unmap pair at a
 * leaf boundary would otherwise allocate and zero a leaf each time. A reader still holding a
 * dropped level sees zeros (a fault), which is what it would have seen anyway.
 */
final class PageTable {
    private static final int BITS = 13;
    private static final int FAN = 1 << BITS;
    private static final int MASK = FAN - 1;
    private static final VarHandle REF = MethodHandles.arrayElementVarHandle(Object[].class);
    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);

    private static final class Leaf {
        final long[] pte = new long[FAN];
        final int[] owner = new int[FAN];
        int used;
    }

    /** Empty leaves tolerated before a sweep, on top of one per leaf in use. */
    private static final int SPARE_LEAVES = 64;

    private final Object[] root = new Object[FAN];
    private int leaves;
    private int emptyLeaves;

    /** The entry for {@code page}, 0 when unmapped. Lock-free. */
    long pte(long page) {
        Object[] l1 = (Object[]) REF.getAcquire(root, (int) (page >>> 3 * BITS));
        if (l1 == null) {
            return 0;
        }
        Object[] l2 = (Object[]) REF.getAcquire(l1, (int) (page >>> 2 * BITS) & MASK);
        if (l2 == null) {
            return 0;
        }
        Leaf leaf = (Leaf) REF.getAcquire(l2, (int) (page >>> BITS) & MASK);
        if (leaf == null) {
            return 0;
        }
        return (long) ENTRY.getAcquire(leaf.pte, (int) page & MASK);
    }

    // ---- writer side ----

    /** The owning map id of a populated page. */
    int owner(long page) {
        Leaf leaf = leaf(page, false);
        return leaf == null ? 0 : leaf.owner[(int) page & MASK];
    }

    void set(long page, long pte, int owner) {
        Leaf leaf = leaf(page, true);
        int i = (int) page & MASK;
        if (leaf.pte[i] == 0 && leaf.used++ == 0) {
            emptyLeaves--;
        }
        leaf.owner[i] = owner;
        ENTRY.setRelease(leaf.pte, i, pte);
    }

    void relabel(long page, int owner) {
        leaf(page, false).owner[(int) page & MASK] = owner;
    }

    void clear(long page) {
        Leaf leaf = leaf(page, false);
        int i = (int) page & MASK;
        if (leaf == null || leaf.pte[i] == 0) {
            return;
        }
        ENTRY.setRelease(leaf.pte, i, 0L);
        leaf.owner[i] = 0;
        if (--leaf.used == 0) {
            emptyLeaves++;
        }
    }

    /** Drops empty levels once there are more of them than leaves in use. */
    void trim() {
        if (emptyLeaves <= SPARE_LEAVES || emptyLeaves <= leaves - emptyLeaves) {
            return;
        }
        for (int a = 0; a < FAN; a++) {
            Object[] l1 = (Object[]) root[a];
            if (l1 != null && sweep(l1)) {
                REF.setRelease(root, a, null);
            }
        }
        emptyLeaves = 0;
    }

    /** Unlinks the empty leaves under {@code l1}; true when nothing is left under it. */
    private boolean sweep(Object[] l1) {
        boolean empty = true;
        for (int b = 0; b < FAN; b++) {
            Object[] l2 = (Object[]) l1[b];
            if (l2 == null) {
                continue;
            }
            boolean l2Empty = true;
            for (int c = 0; c < FAN; c++) {
                Leaf leaf = (Leaf) l2[c];
                if (leaf != null && leaf.used == 0) {
                    REF.setRelease(l2, c, null);
                    leaves--;
                } else if (leaf != null) {
                    l2Empty = false;
                }
            }
            if (l2Empty) {
                REF.setRelease(l1, b, null);
            } else {
                empty = false;
            }
        }
        return empty;
    }

    /** The first populated page in [from, last], or -1. Skips absent subtrees whole. */
    long next(long from, long last) {
        long p = from;
        while (Long.compareUnsigned(p, last) <= 0 && p >= 0) {
            Object[] l1 = (Object[]) root[(int) (p >>> 3 * BITS)];
            if (l1 == null) {
                p = ((p >>> 3 * BITS) + 1) << 3 * BITS;
                continue;
            }
            Object[] l2 = (Object[]) l1[(int) (p >>> 2 * BITS) & MASK];
            if (l2 == null) {
                p = ((p >>> 2 * BITS) + 1) << 2 * BITS;
                continue;
            }
            Leaf leaf = (Leaf) l2[(int) (p >>> BITS) & MASK];
            if (leaf == null) {
                p = ((p >>> BITS) + 1) << BITS;
                continue;
            }
            for (int i = (int) p & MASK; i < FAN && p <= last; i++, p++) {
                if (leaf.pte[i] != 0) {
                    return p;
                }
            }
        }
        return -1;
    }

    private Leaf leaf(long page, boolean create) {
        Object[] l1 = child(root, (int) (page >>> 3 * BITS), create);
        if (l1 == null) {
            return null;
        }
        Object[] l2 = child(l1, (int) (page >>> 2 * BITS) & MASK, create);
        if (l2 == null) {
            return null;
        }
        int i = (int) (page >>> BITS) & MASK;
        Leaf leaf = (Leaf) l2[i];
        if (leaf == null && create) {
            leaf = new Leaf();
            leaves++;
            emptyLeaves++; // until set() puts the first entry in
            REF.setRelease(l2, i, leaf);
        }
        return leaf;
    }

    private static Object[] child(Object[] parent, int i, boolean create) {
        Object[] c = (Object[]) parent[i];
        if (c == null && create) {
            c = new Object[FAN];
            REF.setRelease(parent, i, c);
        }
        return c;
    }
}
