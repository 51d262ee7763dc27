package io.iovalab.iommu;

/**
 * A page-table entry packed into one long, so that a translation hit is a single array load:
 * valid (sign bit, so a live entry is negative), write, read, the backing's slot and the byte
 * offset of the page in that backing's segment. Slot 0 is the remote (DMA_READ/DMA_WRITE) backing.
 */
final class Pte {
    static final int PAGE_SHIFT = 12;
    static final long PAGE = 1L << PAGE_SHIFT;
    static final long PAGE_MASK = PAGE - 1;
    /** Page numbers have 52 bits: the IOVA space is the whole unsigned 64-bit range. */
    static final long LAST_PAGE = -1L >>> PAGE_SHIFT;

    static final int OFFSET_BITS = 47;
    static final long MAX_OFFSET = (1L << OFFSET_BITS) - 1;
    static final int SLOT_BITS = 14;
    static final int SLOTS = 1 << SLOT_BITS;
    private static final long VALID = 1L << 63;
    static final long WRITE = 1L << 62;
    static final long READ = 1L << 61;

    private Pte() {
    }

    static long of(int slot, long offset, boolean readable, boolean writable) {
        return VALID | (readable ? READ : 0) | (writable ? WRITE : 0) | ((long) slot << OFFSET_BITS) | offset;
    }

    static boolean valid(long pte) {
        return pte < 0;
    }

    static boolean allows(long pte, boolean write) {
        return (pte & (write ? WRITE : READ)) != 0;
    }

    static int slot(long pte) {
        return (int) (pte >>> OFFSET_BITS) & (SLOTS - 1);
    }

    static long offset(long pte) {
        return pte & MAX_OFFSET;
    }

    /** Whether {@code next} maps the page after {@code pte}'s onto the byte after it, with the same rights. */
    static boolean continues(long pte, long next) {
        if (!valid(next) || ((pte ^ next) & ~MAX_OFFSET) != 0) {
            return false;
        }
        return slot(pte) == 0 || offset(next) == offset(pte) + PAGE;
    }
}
