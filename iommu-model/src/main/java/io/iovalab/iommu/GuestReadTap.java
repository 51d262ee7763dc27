package io.iovalab.iommu;

import java.lang.foreign.MemorySegment;

/**
 * Sees every piece of guest memory a device reads, in the device thread's order. Guest memory
 * changes without any message, so a session recording needs these bytes, and a replay puts them
 * back (it writes into guest memory before the device copies from it).
 *
 * <p>Called on the device thread, inside the access; must not block for long.
 */
public interface GuestReadTap {
    /**
     * Before the device reads {@code guest}, the live guest memory of a map with an fd (a replay
     * writes the recorded bytes into it here).
     *
     * @param queue     the reading handle's queue ({@link DmaCommand#queue()})
     * @param commandId its command, or {@link DmaCommand#NO_COMMAND}
     * @param iova      first guest address of the piece
     */
    default void beforeRead(int queue, int commandId, long iova, MemorySegment guest) {
    }

    /**
     * The bytes the device got, after the read (a recording keeps these: guest memory may change
     * between a look before the read and the read itself, and shadow doorbells do).
     */
    default void read(int queue, int commandId, long iova, MemorySegment bytes) {
    }
}
