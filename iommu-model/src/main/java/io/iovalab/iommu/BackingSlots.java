package io.iovalab.iommu;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.IdentityHashMap;

/**
 * Numbers the backings page-table entries point into, so an entry can name its memory in a few
 * bits and a reader can find the segment with one array load. Slot 0 stands for remote memory.
 * A slot is reused only after every map using it is gone and the unmap's grace period has passed,
 * so no reader can hold an entry naming a slot that now means another backing.
 */
final class BackingSlots {
    private static final VarHandle SEGMENT = MethodHandles.arrayElementVarHandle(MemorySegment[].class);
    private final IdentityHashMap<Backing, Integer> slotOf = new IdentityHashMap<>();
    private Backing[] backings = new Backing[8];
    private int[] uses = new int[8];
    private volatile MemorySegment[] segments = new MemorySegment[8];
    private int nextFresh = 1;
    private int freeHead;

    /**
     * Lock-free: the memory behind {@code slot}, null for slot 0 (remote). Acquire, so a reader
     * that sees a slot already given to another backing also sees the unmap epoch that freed it.
     */
    MemorySegment segment(int slot) {
        return (MemorySegment) SEGMENT.getAcquire(segments, slot);
    }

    /**
     * A slot for one more map on {@code backing} (null = remote), or -1 when entries cannot name
     * it: all slots taken, or a segment too large for the offset bits.
     */
    int acquire(Backing backing) {
        if (backing == null) {
            return 0;
        }
        Integer known = slotOf.get(backing);
        int slot;
        if (known != null) {
            slot = known;
        } else {
            if (backing.segment().byteSize() > Pte.MAX_OFFSET) {
                return -1;
            }
            slot = freeSlot();
            if (slot < 0) {
                return -1;
            }
            backings[slot] = backing;
            SEGMENT.setRelease(segments, slot, backing.segment());
            slotOf.put(backing, slot);
        }
        uses[slot]++;
        return slot;
    }

    /** One map on {@code slot} fewer; call only after readers can no longer hold its entries. */
    void release(int slot) {
        if (slot == 0 || --uses[slot] > 0) {
            return;
        }
        slotOf.remove(backings[slot]);
        backings[slot] = null;
        SEGMENT.setRelease(segments, slot, (MemorySegment) null);
        uses[slot] = freeHead; // free slots chain through their use count
        freeHead = slot;
    }

    void retain(int slot) {
        if (slot != 0) {
            uses[slot]++;
        }
    }

    Backing backing(int slot) {
        return backings[slot];
    }

    private int freeSlot() {
        if (freeHead != 0) {
            int slot = freeHead;
            freeHead = uses[slot];
            uses[slot] = 0;
            return slot;
        }
        if (nextFresh == Pte.SLOTS) {
            return -1;
        }
        if (nextFresh == backings.length) {
            int n = Math.min(Pte.SLOTS, backings.length * 2);
            backings = Arrays.copyOf(backings, n);
            uses = Arrays.copyOf(uses, n);
            segments = Arrays.copyOf(segments, n);
        }
        return nextFresh++;
    }
}
