package io.iovalab.iommu;

/**
 * One entry of the trace ring.
 *
 * @param seq     position in the ring's sequence (gaps mean the ring wrapped)
 * @param kind    what happened
 * @param iova    first IOVA
 * @param length  bytes
 * @param queue   queue, or -1
 * @param commandId command, or -1
 * @param info    backing offset for MAP, fault kind for FAULT, else 0
 */
public record TraceEvent(long seq, long timeNanos, Kind kind, long iova, long length, int queue, int commandId, long info) {
    public enum Kind { MAP, UNMAP, UNMAP_ALL, READ, WRITE, CONTROL_READ, CONTROL_WRITE, FAULT }
}
