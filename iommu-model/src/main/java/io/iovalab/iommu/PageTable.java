package io.iovalab.iommu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A four-level radix table over 52-bit IOVA page numbers whose leaves are primitive arrays of
 * packed {@link Pte}s: a lookup is three loads through typed directories (cached when maps
 * cluster) and one load of the entry. The writer keeps a parallel tree of {@link Leaf} records
 * that also hold, per entry, the id of the map that owns it (to find map boundaries on unmap and
 * dump); readers never look at it.
 *
 * <p>One writer (the IOVA space, under its lock), any number of lock-free readers. New levels
 * and entries are published with release stores. Readers load the directories plainly — typed
 * arrays need no casts, which keeps the lookup short enough for several to overlap in the CPU —
 * and only the entry with acquire: a level holds nothing but nulls and zeros when it is
 * published, and a reader that misses a level being added sees no entry, as it would have a
 * moment earlier. Callers start every access with a volatile read (the unmap epoch or the access
 * window), so these loads are redone for each access. Empty levels are dropped, but lazily: a
 * map/unmap pair at a leaf boundary would otherwise allocate and zero a leaf each time. A reader
 * still holding a dropped level sees zeros (a fault), which is what it would have seen anyway.
 */
final class PageTable {
    private static final int BITS = 13;
    private static final int FAN = 1 << BITS;
    private static final int MASK = FAN - 1;
    private static final VarHandle TOP = MethodHandles.arrayElementVarHandle(long[][][][].class);
    private static final VarHandle MID = MethodHandles.arrayElementVarHandle(long[][][].class);
    private static final VarHandle LOW = MethodHandles.arrayElementVarHandle(long[][].class);
    private static final VarHandle ENTRY = MethodHandles.arrayElementVarHandle(long[].class);
    /** Empty leaves tolerated before a sweep, on top of one per leaf in use. */
    private static final int SPARE_LEAVES = 64;

    private static final class Leaf {
        final long[] pte = new long[FAN];
        final int[] owner = new int[FAN];
        int used;
    }

    private final long[][][][] root = new long[FAN][][][];
    private final Leaf[][][] leaves = new Leaf[FAN][][];
    private int leafCount;
    private int emptyLeaves;

    /** The entry for {@code page}, 0 when unmapped. Lock-free. */
    long pte(long page) {
        long[][][] l1 = root[(int) (page >>> 3 * BITS)];
        if (l1 == null) {
            return 0;
        }
        long[][] l2 = l1[(int) (page >>> 2 * BITS) & MASK];
        if (l2 == null) {
            return 0;
        }
        long[] leaf = l2[(int) (page >>> BITS) & MASK];
        if (leaf == null) {
            return 0;
        }
        return (long) ENTRY.getAcquire(leaf, (int) page & MASK);
    }

    // ---- writer side ----

    /** The owning map id of a populated page, 0 for an empty one. */
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
        if (emptyLeaves <= SPARE_LEAVES || emptyLeaves <= leafCount - emptyLeaves) {
            return;
        }
        for (int a = 0; a < FAN; a++) {
            if (leaves[a] != null && sweep(a)) {
                leaves[a] = null;
                TOP.setRelease(root, a, (long[][][]) null);
            }
        }
        emptyLeaves = 0;
    }

    /** Unlinks the empty leaves under top-level slot {@code a}; true when nothing is left there. */
    private boolean sweep(int a) {
        Leaf[][] m1 = leaves[a];
        long[][][] r1 = root[a];
        boolean empty = true;
        for (int b = 0; b < FAN; b++) {
            Leaf[] m2 = m1[b];
            if (m2 == null) {
                continue;
            }
            boolean m2Empty = true;
            for (int c = 0; c < FAN; c++) {
                if (m2[c] != null && m2[c].used == 0) {
                    m2[c] = null;
                    LOW.setRelease(r1[b], c, (long[]) null);
                    leafCount--;
                } else if (m2[c] != null) {
                    m2Empty = false;
                }
            }
            if (m2Empty) {
                m1[b] = null;
                MID.setRelease(r1, b, (long[][]) null);
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
            Leaf[][] m1 = leaves[(int) (p >>> 3 * BITS)];
            if (m1 == null) {
                p = ((p >>> 3 * BITS) + 1) << 3 * BITS;
                continue;
            }
            Leaf[] m2 = m1[(int) (p >>> 2 * BITS) & MASK];
            if (m2 == null) {
                p = ((p >>> 2 * BITS) + 1) << 2 * BITS;
                continue;
            }
            Leaf leaf = m2[(int) (p >>> BITS) & MASK];
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

    /** The writer's record of the leaf holding {@code page}; with {@code create}, builds both trees' path. */
    private Leaf leaf(long page, boolean create) {
        int a = (int) (page >>> 3 * BITS);
        int b = (int) (page >>> 2 * BITS) & MASK;
        int c = (int) (page >>> BITS) & MASK;
        Leaf[][] m1 = leaves[a];
        if (m1 == null) {
            if (!create) {
                return null;
            }
            m1 = leaves[a] = new Leaf[FAN][];
            TOP.setRelease(root, a, new long[FAN][][]);
        }
        Leaf[] m2 = m1[b];
        if (m2 == null) {
            if (!create) {
                return null;
            }
            m2 = m1[b] = new Leaf[FAN];
            MID.setRelease(root[a], b, new long[FAN][]);
        }
        Leaf leaf = m2[c];
        if (leaf == null && create) {
            leaf = m2[c] = new Leaf();
            leafCount++;
            emptyLeaves++; // until set() puts the first entry in
            LOW.setRelease(root[a][b], c, leaf.pte);
        }
        return leaf;
    }
}
