package io.iovalab.iommu;

import java.lang.foreign.MemorySegment;

/**
 * Accesses made on behalf of one device command, through the IOMMU model.
 *
 * <p>A handle belongs to one thread and is reused: {@code start(queue, cid)} ... {@code end()}.
 * Between them, <em>data</em> transfers (the bulk {@code read}/{@code write}/{@code fill}/
 * {@code visit} methods and the scatter-gather ones) are recorded as the command's IOVA ranges —
 * how many distinct ranges a command touched and whether they were contiguous is the device-side
 * signature of the kernel's two-step DMA path. Scalar accesses and {@link #readDescriptors} are
 * <em>control</em> traffic (PRP lists, SGL segments, queue entries) and are counted but not
 * recorded as data ranges. A handle started with {@link #NO_COMMAND} records no per-command
 * statistics (queue rings, event queues).
 *
 * <p>Every method that touches memory either completes on mapped memory or throws
 * {@link DmaFault}; no other exception escapes, whatever the guest put in the address.
 */
public interface DmaCommand {

    /** Command id for accesses that serve no single command (rings, event queues). */
    int NO_COMMAND = -1;

    /** Begins a command; the previous one, if not ended, is ended first. */
    DmaCommand start(int queue, int commandId);

    /** Ends the command and folds its ranges into the device statistics. Idempotent. */
    void end();

    int queue();

    int commandId();

    // ---- control: little-endian scalars ----
    byte readByte(long iova) throws DmaFault;

    short readShort(long iova) throws DmaFault;

    int readInt(long iova) throws DmaFault;

    long readLong(long iova) throws DmaFault;

    void writeByte(long iova, byte value) throws DmaFault;

    void writeShort(long iova, short value) throws DmaFault;

    void writeInt(long iova, int value) throws DmaFault;

    void writeLong(long iova, long value) throws DmaFault;

    /** Bulk control read (PRP list page, SGL segment, queue entry): counted, not a data range. */
    void readDescriptors(long iova, MemorySegment dst, long dstOffset, long length) throws DmaFault;

    /** Bulk control write (completion entry, event queue entry): counted, not a data range. */
    void writeDescriptors(long iova, MemorySegment src, long srcOffset, long length) throws DmaFault;

    // ---- data ----
    /** Device reads guest memory: IOVA range → {@code dst}. */
    void read(long iova, MemorySegment dst, long dstOffset, long length) throws DmaFault;

    /** Device writes guest memory: {@code src} → IOVA range. */
    void write(long iova, MemorySegment src, long srcOffset, long length) throws DmaFault;

    void read(long iova, byte[] dst, int dstOffset, int length) throws DmaFault;

    void write(long iova, byte[] src, int srcOffset, int length) throws DmaFault;

    /** Writes {@code length} copies of {@code value} (bit-bucket-free zeroing and the like). */
    void fill(long iova, byte value, long length) throws DmaFault;

    /** Reads the whole scatter-gather list, in order, into {@code dst}. */
    void read(SgList list, MemorySegment dst, long dstOffset) throws DmaFault;

    /** Writes {@code src} across the whole scatter-gather list, in order. */
    void write(SgList list, MemorySegment src, long srcOffset) throws DmaFault;

    /**
     * Zero-copy access: calls {@code visitor} with the mapped guest memory backing each piece of
     * the range, in IOVA order. The whole range is checked before the first call, so a fault
     * leaves nothing half-visited. Pieces served by DMA_READ/WRITE messages (maps without an fd)
     * are bounced through a buffer that the model copies in before / out after the call.
     */
    void visit(long iova, long length, Direction direction, SegmentVisitor visitor) throws DmaFault;

    /** Direction of a data transfer, from the device's point of view. */
    enum Direction {
        /** device reads guest memory (DMA to device, e.g. NVMe Write) */
        TO_DEVICE,
        /** device writes guest memory (DMA from device, e.g. NVMe Read) */
        FROM_DEVICE
    }

    @FunctionalInterface
    interface SegmentVisitor {
        /** {@code piece} covers guest bytes [iova, iova + piece.byteSize()). */
        void accept(long iova, MemorySegment piece) throws DmaFault;
    }
}
