package io.iovalab.iommu;

import java.lang.foreign.MemorySegment;

/**
 * Sees every piece of guest memory a device reads, in the device thread's order. Guest memory
 * changes without any message, so a session recording needs these bytes, and a replay puts them
 * back (it writes into {@code guest} before the device copies from it).
 *
 * <p>Called on the device thread, inside the access; must not block for long.
 */
public interface GuestReadTap {
    /**
     * @param queue     the reading handle's queue ({@link DmaCommand#queue()})
     * @param commandId its command, or {@link DmaCommand#NO_COMMAND}
     * @param iova      first guest address of the piece
     * @param guest     the piece: the live guest memory for maps with an fd (about to be read),
     *                  the bytes received for maps served by DMA_READ (already read)
     */
    void read(int queue, int commandId, long iova, MemorySegment guest);
}
