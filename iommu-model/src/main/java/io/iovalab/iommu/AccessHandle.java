package io.iovalab.iommu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The {@link DmaCommand} implementation: one per device thread. Publishes "inside an access"
 * in {@link #state} (odd while inside) so that unmaps can wait for it, and remembers the last
 * map it used so sequential accesses skip the lookup.
 */
final class AccessHandle implements DmaCommand {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;

    private final IovaSpace space;
    /** (sequence << 1) | inside; written by the owner thread, read by unmappers */
    volatile long state;
    private long seq;
    private Mapping last;
    private final MemorySegment scratch = Arena.ofAuto().allocate(8, 8);

    private int queue = -1;
    private int commandId = NO_COMMAND;
    private boolean open;
    // per direction [0] = device reads guest memory, [1] = device writes it
    private final int[] ranges = new int[2];
    private final long[] rangeEnd = new long[2];
    private long dataBytes;

    AccessHandle(IovaSpace space) {
        this.space = space;
    }

    @Override
    public DmaCommand start(int queue, int commandId) {
        end();
        this.queue = queue;
        this.commandId = commandId;
        this.open = true;
        ranges[0] = ranges[1] = 0;
        dataBytes = 0;
        return this;
    }

    @Override
    public void end() {
        if (open && commandId != NO_COMMAND && dataBytes > 0) {
            space.recordCommand(ranges[0], ranges[1], dataBytes);
        }
        open = false;
        dataBytes = 0;
        ranges[0] = ranges[1] = 0;
    }

    @Override
    public int queue() {
        return queue;
    }

    @Override
    public int commandId() {
        return commandId;
    }

    private void enter() {
        state = (++seq << 1) | 1;
    }

    private void exit() {
        state = seq << 1;
    }

    /**
     * The live map holding {@code iova} with the needed permission, checked while inside an
     * access; faults otherwise. {@code start}/{@code length} describe the whole access for the
     * fault record.
     */
    private Mapping translate(long iova, boolean write, long start, long length) throws DmaFault {
        if (!space.busMasterEnabled()) {
            throw space.fault(this, Fault.Kind.BUS_MASTER_DISABLED, start, length, iova, write,
                    "PCI Command.Bus Master Enable is clear");
        }
        Mapping m = last;
        if (m == null || m.dead || !m.contains(iova)) {
            m = space.lookup(iova);
            if (m == null) {
                long at = space.unmappedAt(iova);
                Fault.Kind kind = at != 0 ? Fault.Kind.AFTER_UNMAP : iova != start ? Fault.Kind.HOLE : Fault.Kind.UNMAPPED;
                throw space.fault(this, kind, start, length, iova, write, kind == Fault.Kind.HOLE
                        ? "the range runs into unmapped space" : kind == Fault.Kind.AFTER_UNMAP
                        ? "unmapped " + (System.nanoTime() - at) / 1000 + " µs ago" : "never mapped");
            }
            last = m;
        }
        if (write ? !m.writable : !m.readable) {
            throw space.fault(this, Fault.Kind.PERMISSION, start, length, iova, write,
                    "map 0x" + Long.toHexString(m.iova) + "+0x" + Long.toHexString(m.size) + " is "
                            + (m.readable ? "R" : "") + (m.writable ? "W" : "") + "-only");
        }
        return m;
    }

    private void checkRange(long iova, long length, boolean write) throws DmaFault {
        if (length < 0 || (length > 0 && Long.compareUnsigned(iova + length - 1, iova) < 0)) {
            throw space.fault(this, Fault.Kind.INVALID, iova, length, iova, write, "length " + length + " wraps");
        }
    }

    /** The piece of a transfer that one map serves; a small mutable cursor to avoid allocation. */
    private interface PieceCopier {
        void copy(Mapping m, long iova, long pieceOffset, long n) throws DmaFault, IOException;
    }

    /**
     * Walks [iova, iova+length) map by map. Local pieces run inside an access window; remote
     * pieces run outside it (they wait for the client).
     */
    private void walk(long iova, long length, boolean write, PieceCopier copier) throws DmaFault {
        checkRange(iova, length, write);
        long done = 0;
        while (done < length) {
            long at = iova + done;
            enter();
            boolean inside = true;
            try {
                Mapping m = translate(at, write, iova, length);
                long room = m.end() - at; // 0 when the map reaches the top of the address space
                long n = room == 0 || Long.compareUnsigned(room, length - done) > 0 ? length - done : room;
                if (m.backing == null) {
                    exit();
                    inside = false;
                    remote(m, at, done, n, write, copier);
                } else {
                    copier.copy(m, at, done, n);
                }
                done += n;
            } catch (IllegalStateException | IndexOutOfBoundsException e) {
                // the memory went away under us (closed arena): a fault, never a crash
                throw space.fault(this, Fault.Kind.AFTER_UNMAP, iova, length, at, write,
                        "guest memory released during the access: " + e.getMessage());
            } catch (IOException e) {
                throw space.fault(this, Fault.Kind.REMOTE_ERROR, iova, length, at, write, e.getMessage());
            } finally {
                if (inside) {
                    exit();
                }
            }
        }
    }

    private void remote(Mapping m, long at, long done, long n, boolean write, PieceCopier copier)
            throws DmaFault, IOException {
        if (space.remote() == null) {
            throw space.fault(this, Fault.Kind.REMOTE_ERROR, at, n, at, write,
                    "map without fd and no DMA_READ/DMA_WRITE channel");
        }
        space.remoteBytes.add(n);
        copier.copy(m, at, done, n);
    }

    private static long localOffset(Mapping m, long iova) {
        return m.offset + (iova - m.iova);
    }

    // ---- bulk ----
    private void copyIn(long iova, MemorySegment dst, long dstOffset, long length) throws DmaFault {
        walk(iova, length, false, (m, at, done, n) -> {
            GuestReadTap tap = space.readTap;
            if (m.backing == null) {
                space.remote().read(at, dst, dstOffset + done, n);
                if (tap != null) {
                    tap.read(queue, commandId, at, dst.asSlice(dstOffset + done, n));
                }
            } else {
                if (tap != null) {
                    tap.beforeRead(queue, commandId, at, m.backing.segment().asSlice(localOffset(m, at), n));
                }
                MemorySegment.copy(m.backing.segment(), localOffset(m, at), dst, dstOffset + done, n);
                if (tap != null) {
                    tap.read(queue, commandId, at, dst.asSlice(dstOffset + done, n));
                }
            }
        });
    }

    private void copyOut(long iova, MemorySegment src, long srcOffset, long length) throws DmaFault {
        walk(iova, length, true, (m, at, done, n) -> {
            if (m.backing == null) {
                space.remote().write(at, src, srcOffset + done, n);
            } else {
                MemorySegment.copy(src, srcOffset + done, m.backing.segment(), localOffset(m, at), n);
            }
        });
    }

    private void data(long iova, long length, boolean write) {
        if (length <= 0) {
            return;
        }
        int d = write ? 1 : 0;
        if (ranges[d] == 0 || iova != rangeEnd[d]) {
            ranges[d]++;
        }
        rangeEnd[d] = iova + length;
        dataBytes += length;
        (write ? space.bytesWritten : space.bytesRead).add(length);
        if (space.trace.dmaEnabled()) {
            space.trace.record(write ? TraceEvent.Kind.WRITE : TraceEvent.Kind.READ, iova, length, queue, commandId, 0);
        }
    }

    private void control(long iova, long length, boolean write) {
        space.controlBytes.add(length);
        if (space.trace.dmaEnabled()) {
            space.trace.record(write ? TraceEvent.Kind.CONTROL_WRITE : TraceEvent.Kind.CONTROL_READ, iova, length,
                    queue, commandId, 0);
        }
    }

    // ---- scalars: a fast path inside one map, the general walk otherwise ----
    private long readScalar(long iova, int size) throws DmaFault {
        enter();
        try {
            Mapping m = translate(iova, false, iova, size);
            if (m.backing != null && Long.compareUnsigned(iova + size - 1 - m.iova, m.size) < 0) {
                MemorySegment s = m.backing.segment();
                long off = localOffset(m, iova);
                GuestReadTap tap = space.readTap;
                if (tap != null) {
                    tap.beforeRead(queue, commandId, iova, s.asSlice(off, size));
                }
                control(iova, size, false);
                long v = switch (size) {
                    case 1 -> s.get(ValueLayout.JAVA_BYTE, off);
                    case 2 -> s.get(SHORT, off);
                    case 4 -> s.get(INT, off);
                    default -> s.get(LONG, off);
                };
                if (tap != null) {
                    scratch.set(LONG, 0, v); // little-endian: the low bytes are the value read
                    tap.read(queue, commandId, iova, scratch.asSlice(0, size));
                }
                return v;
            }
        } catch (IllegalStateException | IndexOutOfBoundsException e) {
            throw space.fault(this, Fault.Kind.AFTER_UNMAP, iova, size, iova, false, "guest memory released: " + e.getMessage());
        } finally {
            exit();
        }
        scratch.set(LONG, 0, 0);
        copyIn(iova, scratch, 0, size);
        control(iova, size, false);
        return switch (size) {
            case 1 -> scratch.get(ValueLayout.JAVA_BYTE, 0);
            case 2 -> scratch.get(SHORT, 0);
            case 4 -> scratch.get(INT, 0);
            default -> scratch.get(LONG, 0);
        };
    }

    private void writeScalar(long iova, int size, long value) throws DmaFault {
        enter();
        try {
            Mapping m = translate(iova, true, iova, size);
            if (m.backing != null && Long.compareUnsigned(iova + size - 1 - m.iova, m.size) < 0) {
                MemorySegment s = m.backing.segment();
                long off = localOffset(m, iova);
                switch (size) {
                    case 1 -> s.set(ValueLayout.JAVA_BYTE, off, (byte) value);
                    case 2 -> s.set(SHORT, off, (short) value);
                    case 4 -> s.set(INT, off, (int) value);
                    default -> s.set(LONG, off, value);
                }
                control(iova, size, true);
                return;
            }
        } catch (IllegalStateException | IndexOutOfBoundsException e) {
            throw space.fault(this, Fault.Kind.AFTER_UNMAP, iova, size, iova, true, "guest memory released: " + e.getMessage());
        } finally {
            exit();
        }
        scratch.set(LONG, 0, value);
        copyOut(iova, scratch, 0, size);
        control(iova, size, true);
    }

    @Override
    public byte readByte(long iova) throws DmaFault {
        return (byte) readScalar(iova, 1);
    }

    @Override
    public short readShort(long iova) throws DmaFault {
        return (short) readScalar(iova, 2);
    }

    @Override
    public int readInt(long iova) throws DmaFault {
        return (int) readScalar(iova, 4);
    }

    @Override
    public long readLong(long iova) throws DmaFault {
        return readScalar(iova, 8);
    }

    @Override
    public void writeByte(long iova, byte value) throws DmaFault {
        writeScalar(iova, 1, value);
    }

    @Override
    public void writeShort(long iova, short value) throws DmaFault {
        writeScalar(iova, 2, value);
    }

    @Override
    public void writeInt(long iova, int value) throws DmaFault {
        writeScalar(iova, 4, value);
    }

    @Override
    public void writeLong(long iova, long value) throws DmaFault {
        writeScalar(iova, 8, value);
    }

    @Override
    public void readDescriptors(long iova, MemorySegment dst, long dstOffset, long length) throws DmaFault {
        copyIn(iova, dst, dstOffset, length);
        control(iova, length, false);
    }

    @Override
    public void writeDescriptors(long iova, MemorySegment src, long srcOffset, long length) throws DmaFault {
        copyOut(iova, src, srcOffset, length);
        control(iova, length, true);
    }

    @Override
    public void read(long iova, MemorySegment dst, long dstOffset, long length) throws DmaFault {
        copyIn(iova, dst, dstOffset, length);
        data(iova, length, false);
    }

    @Override
    public void write(long iova, MemorySegment src, long srcOffset, long length) throws DmaFault {
        copyOut(iova, src, srcOffset, length);
        data(iova, length, true);
    }

    @Override
    public void read(long iova, byte[] dst, int dstOffset, int length) throws DmaFault {
        read(iova, MemorySegment.ofArray(dst), dstOffset, length);
    }

    @Override
    public void write(long iova, byte[] src, int srcOffset, int length) throws DmaFault {
        write(iova, MemorySegment.ofArray(src), srcOffset, length);
    }

    @Override
    public void fill(long iova, byte value, long length) throws DmaFault {
        walk(iova, length, true, (m, at, done, n) -> {
            if (m.backing == null) {
                byte[] chunk = new byte[(int) Math.min(n, 1 << 16)];
                java.util.Arrays.fill(chunk, value);
                for (long k = 0; k < n; k += chunk.length) {
                    int c = (int) Math.min(chunk.length, n - k);
                    space.remote().write(at + k, MemorySegment.ofArray(chunk), 0, c);
                }
            } else {
                m.backing.segment().asSlice(localOffset(m, at), n).fill(value);
            }
        });
        data(iova, length, true);
    }

    @Override
    public void read(SgList list, MemorySegment dst, long dstOffset) throws DmaFault {
        long off = dstOffset;
        for (int i = 0; i < list.size(); i++) {
            read(list.iova(i), dst, off, list.length(i));
            off += list.length(i);
        }
    }

    @Override
    public void write(SgList list, MemorySegment src, long srcOffset) throws DmaFault {
        long off = srcOffset;
        for (int i = 0; i < list.size(); i++) {
            write(list.iova(i), src, off, list.length(i));
            off += list.length(i);
        }
    }

    @Override
    public void visit(long iova, long length, Direction direction, SegmentVisitor visitor) throws DmaFault {
        boolean write = direction == Direction.FROM_DEVICE;
        // check the whole range first so a fault leaves nothing half-visited
        walk(iova, length, write, (m, at, done, n) -> {
        });
        walk(iova, length, write, (m, at, done, n) -> {
            if (m.backing == null) {
                MemorySegment bounce = MemorySegment.ofArray(new byte[(int) n]);
                if (!write) {
                    space.remote().read(at, bounce, 0, n);
                    GuestReadTap tap = space.readTap;
                    if (tap != null) {
                        tap.read(queue, commandId, at, bounce);
                    }
                }
                visitor.accept(at, bounce);
                if (write) {
                    space.remote().write(at, bounce, 0, n);
                }
            } else {
                MemorySegment piece = m.backing.segment().asSlice(localOffset(m, at), n);
                GuestReadTap tap = space.readTap;
                if (!write && tap != null) {
                    // the visitor reads in place: what it will see is what is there now
                    tap.beforeRead(queue, commandId, at, piece);
                    tap.read(queue, commandId, at, piece);
                }
                visitor.accept(at, piece);
            }
        });
        data(iova, length, write);
    }
}
