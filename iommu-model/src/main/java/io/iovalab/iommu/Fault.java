package io.iovalab.iommu;

/**
 * One refused access, as filed in the device's fault log.
 *
 * @param device         device name
 * @param queue          queue the access served, or -1
 * @param commandId      command id, or {@link DmaCommand#NO_COMMAND}
 * @param iova           first IOVA of the access
 * @param length         bytes the access asked for
 * @param faultIova      first IOVA that could not be served
 * @param write          true if the device was writing guest memory
 * @param kind           why it was refused
 * @param unmappedAtNanos for {@link Kind#AFTER_UNMAP}: when ({@link System#nanoTime()}) the range
 *                       holding {@code faultIova} was unmapped; 0 otherwise
 * @param detail         human-readable context
 * @param timeNanos      when it happened ({@link System#nanoTime()})
 */
public record Fault(String device, int queue, int commandId, long iova, long length, long faultIova,
                    boolean write, Kind kind, long unmappedAtNanos, String detail, long timeNanos) {

    public enum Kind {
        /** nothing was ever mapped there (in this session) */
        UNMAPPED,
        /** a mapping exists but lacks the read or write permission */
        PERMISSION,
        /** the range starts mapped but runs into a hole */
        HOLE,
        /** the range was mapped once and has been unmapped since */
        AFTER_UNMAP,
        /** PCI Command.Bus Master Enable is clear */
        BUS_MASTER_DISABLED,
        /** a map without fd whose DMA_READ/DMA_WRITE message failed or timed out */
        REMOTE_ERROR,
        /** length negative, or iova + length wraps around 2^64 */
        INVALID
    }
}
