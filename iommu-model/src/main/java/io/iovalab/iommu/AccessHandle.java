package io.iovalab.iommu;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * The {@link DmaCommand} implementation: one per device thread. Publishes "inside an access"
 * in {@link #state} (odd while inside) so that unmaps can wait for it. A translation leaves its
 * result in fields rather than an object, so the access path allocates nothing.
 */
final class AccessHandle implements DmaCommand {
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED;
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT_UNALIGNED;
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final VarHandle STATE;

    static {
        try {
            STATE = MethodHandles.lookup().findVarHandle(AccessHandle.class, "state", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final IovaSpace space;
    private final PageTable table;
    private final BackingSlots slots;
    final AccessCounters counters = new AccessCounters();
    /** (sequence << 1) | inside; written by the owner thread, read by unmappers */
    private volatile long state;
    private long seq;
    private final MemorySegment scratch = Arena.ofAuto().allocate(8, 8);

    // the piece the last translate found: memory (null = remote), offset in it, bytes
    private MemorySegment pieceSegment;
    private long pieceOffset;
    private long pieceLength;

    private int queue = -1;
    private int commandId = NO_COMMAND;
    private boolean open;
    // per direction [0] = device reads guest memory, [1] = device writes it
    private final int[] ranges = new int[2];
    private final long[] rangeEnd = new long[2];
    private long dataBytes;

    // The bulk accesses' parameters live in fields and their piece copiers are made once per
    // handle: a capturing lambda per access is garbage per command whenever the JIT does not
    // scalar-replace it (JFR showed it on the NVMe worker).
    private MemorySegment bulkBuffer;
    private long bulkOffset;
    private GuestReadTap bulkTap;
    private byte fillValue;
    private final MemorySegment fillBuffer = Arena.ofAuto().allocate(4096, 8);
    private int fillBufferValue; // the byte fillBuffer holds
    private final PieceCopier copyInPiece = this::copyInPiece;
    private final PieceCopier copyOutPiece = this::copyOutPiece;
    private final PieceCopier fillPiece = this::fillPiece;

    AccessHandle(IovaSpace space) {
        this.space = space;
        this.table = space.store.table;
        this.slots = space.store.slots;
    }

    long state() {
        return state;
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

    /**
     * A volatile store: the fence keeps the entry loads that follow from passing it, so an unmapper
     * that (after its own fence) sees us outside knows we will see its cleared entries.
     */
    private void enter() {
        state = (++seq << 1) | 1;
    }

    /** Release is enough: it only has to follow the access it ends. */
    private void exit() {
        STATE.setRelease(this, seq << 1);
    }

    /**
     * Translates the piece of an access at {@code at}, up to {@code want} bytes, into
     * {@link #pieceSegment}/{@link #pieceOffset}/{@link #pieceLength}, checked while inside an
     * access; faults otherwise. {@code start}/{@code length} describe the whole access for the
     * fault record.
     */
    private void translate(long at, long want, boolean write, long start, long length) throws DmaFault {
        if (!space.busMasterEnabled()) {
            throw space.fault(this, Fault.Kind.BUS_MASTER_DISABLED, start, length, at, write,
                    "PCI Command.Bus Master Enable is clear");
        }
        long page = at >>> Pte.PAGE_SHIFT;
        long pte = table.pte(page);
        if (Pte.valid(pte)) {
            if (!Pte.allows(pte, write)) {
                throw permission(at, write, start, length, "page 0x" + Long.toHexString(page << Pte.PAGE_SHIFT),
                        Pte.allows(pte, false), Pte.allows(pte, true));
            }
            long in = at & Pte.PAGE_MASK;
            long n = Pte.PAGE - in;
            // a buffer mapped page by page usually continues in the next page's memory: one piece
            for (long prev = pte, p = page; Long.compareUnsigned(n, want) < 0 && p < Pte.LAST_PAGE; n += Pte.PAGE) {
                long next = table.pte(++p);
                if (!Pte.continues(prev, next)) {
                    break;
                }
                prev = next;
            }
            int slot = Pte.slot(pte);
            pieceSegment = slots.segment(slot);
            if (pieceSegment == null && slot != 0) {
                // only an unguarded read can see this: the map and its backing went while it looked
                throw new IllegalStateException("backing released");
            }
            pieceOffset = Pte.offset(pte) + in;
            pieceLength = Long.compareUnsigned(n, want) < 0 ? n : want;
            return;
        }
        Mapping m = space.store.large.find(at);
        if (m == null) {
            long when = space.unmappedAt(at);
            Fault.Kind kind = when != 0 ? Fault.Kind.AFTER_UNMAP : at != start ? Fault.Kind.HOLE : Fault.Kind.UNMAPPED;
            throw space.fault(this, kind, start, length, at, write, kind == Fault.Kind.HOLE
                    ? "the range runs into unmapped space" : kind == Fault.Kind.AFTER_UNMAP
                    ? "unmapped " + (System.nanoTime() - when) / 1000 + " µs ago" : "never mapped");
        }
        if (write ? !m.writable : !m.readable) {
            throw permission(at, write, start, length, "map 0x" + Long.toHexString(m.iova) + "+0x" + Long.toHexString(m.size),
                    m.readable, m.writable);
        }
        long room = m.end() - at; // 0 when the map reaches the top of the address space
        pieceSegment = m.backing == null ? null : m.backing.segment();
        pieceOffset = m.offset + (at - m.iova);
        pieceLength = room == 0 || Long.compareUnsigned(room, want) > 0 ? want : room;
    }

    private DmaFault permission(long at, boolean write, long start, long length, String what, boolean r, boolean w) {
        return space.fault(this, Fault.Kind.PERMISSION, start, length, at, write,
                what + " is " + (r ? "R" : "") + (w ? "W" : "") + "-only");
    }

    private void checkRange(long iova, long length, boolean write) throws DmaFault {
        if (length < 0 || (length > 0 && Long.compareUnsigned(iova + length - 1, iova) < 0)) {
            throw space.fault(this, Fault.Kind.INVALID, iova, length, iova, write, "length " + length + " wraps");
        }
    }

    /** Moves one piece: {@code segment} null = remote (served by DMA_READ/DMA_WRITE). */
    private interface PieceCopier {
        void copy(MemorySegment segment, long offset, long iova, long done, long n) throws DmaFault, IOException;
    }

    /** Replays of an unguarded read before it takes the window instead. */
    private static final int REPLAYS = 2;

    /**
     * Walks [iova, iova+length) piece by piece. Local pieces run inside an access window, or, when
     * {@code replayable} (a copy that may be redone), unguarded and checked against the unmap
     * epoch afterwards; remote pieces run outside the window (they wait for the client).
     */
    private void walk(long iova, long length, boolean write, boolean replayable, PieceCopier copier) throws DmaFault {
        checkRange(iova, length, write);
        long done = 0;
        int replays = 0;
        while (done < length) {
            long at = iova + done;
            boolean guarded = !replayable || replays >= REPLAYS;
            long epoch = space.unmapEpoch();
            if (guarded) {
                enter();
            }
            boolean inside = guarded;
            try {
                translate(at, length - done, write, iova, length);
                long n = pieceLength;
                if (pieceSegment == null) {
                    if (inside) {
                        exit();
                        inside = false;
                    }
                    remote(at, done, n, write, copier);
                } else {
                    copier.copy(pieceSegment, pieceOffset, at, done, n);
                    if (!guarded && raced(epoch)) {
                        replays++;
                        continue;
                    }
                }
                done += n;
                replays = 0;
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

    /** Whether an unmap ran since {@code epoch} was read; the loads of an unguarded read come first. */
    private boolean raced(long epoch) {
        VarHandle.loadLoadFence();
        return space.unmapEpoch() != epoch;
    }

    private void remote(long at, long done, long n, boolean write, PieceCopier copier) throws DmaFault, IOException {
        if (space.remote() == null) {
            throw space.fault(this, Fault.Kind.REMOTE_ERROR, at, n, at, write,
                    "map without fd and no DMA_READ/DMA_WRITE channel");
        }
        counters.remote(n);
        copier.copy(null, 0, at, done, n);
    }

    // ---- bulk ----
    private void copyIn(long iova, MemorySegment dst, long dstOffset, long length) throws DmaFault {
        GuestReadTap tap = space.readTap;
        bulkBuffer = dst;
        bulkOffset = dstOffset;
        bulkTap = tap;
        try {
            // with a tap the read is guarded: a replayed unguarded read would be seen twice
            walk(iova, length, false, tap == null, copyInPiece);
        } finally {
            bulkBuffer = null;
            bulkTap = null;
        }
    }

    private void copyInPiece(MemorySegment seg, long off, long at, long done, long n) throws IOException {
        MemorySegment dst = bulkBuffer;
        GuestReadTap tap = bulkTap;
        if (seg == null) {
            space.remote().read(at, dst, bulkOffset + done, n);
        } else {
            if (tap != null) {
                tap.beforeRead(queue, commandId, at, seg.asSlice(off, n));
            }
            MemorySegment.copy(seg, off, dst, bulkOffset + done, n);
        }
        if (tap != null) {
            tap.read(queue, commandId, at, dst.asSlice(bulkOffset + done, n));
        }
    }

    private void copyOut(long iova, MemorySegment src, long srcOffset, long length) throws DmaFault {
        bulkBuffer = src;
        bulkOffset = srcOffset;
        try {
            walk(iova, length, true, false, copyOutPiece);
        } finally {
            bulkBuffer = null;
        }
    }

    private void copyOutPiece(MemorySegment seg, long off, long at, long done, long n) throws IOException {
        if (seg == null) {
            space.remote().write(at, bulkBuffer, bulkOffset + done, n);
        } else {
            MemorySegment.copy(bulkBuffer, bulkOffset + done, seg, off, n);
        }
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
        counters.data(write, length);
        if (space.trace.dmaEnabled()) {
            space.trace.record(write ? TraceEvent.Kind.WRITE : TraceEvent.Kind.READ, iova, length, queue, commandId, 0);
        }
    }

    private void control(long iova, long length, boolean write) {
        counters.control(length);
        if (space.trace.dmaEnabled()) {
            space.trace.record(write ? TraceEvent.Kind.CONTROL_WRITE : TraceEvent.Kind.CONTROL_READ, iova, length,
                    queue, commandId, 0);
        }
    }

    // ---- scalars: one entry load when the scalar sits in one local page, the general walk otherwise ----
    // (the fast paths stay small enough for the JIT to inline them into the caller; direct, segment
    // and offset are the whole translation of a hit, which TranslateBench measures on its own)

    /** The entry that serves a {@code size}-byte scalar at {@code iova} directly, or 0 for the slow path. */
    long direct(long iova, int size, long right) {
        long pte = table.pte(iova >>> Pte.PAGE_SHIFT);
        boolean inPage = (iova & Pte.PAGE_MASK) <= Pte.PAGE - size;
        return (pte & right) != 0 && Pte.valid(pte) && Pte.slot(pte) != 0 && inPage && space.busMasterEnabled() ? pte : 0;
    }

    /** The memory behind a {@link #direct} entry; null when its map went while we looked. */
    MemorySegment segment(long pte) {
        return slots.segment(Pte.slot(pte));
    }

    /** Where in {@link #segment} the byte at {@code iova} of a {@link #direct} entry is. */
    static long offset(long pte, long iova) {
        return Pte.offset(pte) + (iova & Pte.PAGE_MASK);
    }

    private long readScalar(long iova, int size) throws DmaFault {
        if (space.readTap != null) {
            return readWalking(iova, size); // the walk shows the read to the tap
        }
        long epoch = space.unmapEpoch();
        long pte = direct(iova, size, Pte.READ);
        if (pte != 0) {
            long v;
            MemorySegment s = segment(pte);
            if (s == null) {
                return readWalking(iova, size); // its map went while we looked: let the walk say how
            }
            try {
                long off = offset(pte, iova);
                v = switch (size) {
                    case 1 -> s.get(ValueLayout.JAVA_BYTE, off);
                    case 2 -> s.get(SHORT, off);
                    case 4 -> s.get(INT, off);
                    default -> s.get(LONG, off);
                };
            } catch (IllegalStateException | IndexOutOfBoundsException e) {
                // memory released, or its slot reused, under an unguarded read: replay it the slow way
                return readWalking(iova, size);
            }
            if (!raced(epoch)) {
                control(iova, size, false);
                return v;
            }
        }
        return readWalking(iova, size);
    }

    private long readWalking(long iova, int size) throws DmaFault {
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
            long pte = direct(iova, size, Pte.WRITE);
            if (pte != 0) {
                MemorySegment s = segment(pte);
                long off = offset(pte, iova);
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
            throw released(iova, size, true, e);
        } finally {
            exit();
        }
        writeWalking(iova, size, value);
    }

    private void writeWalking(long iova, int size, long value) throws DmaFault {
        scratch.set(LONG, 0, value);
        copyOut(iova, scratch, 0, size);
        control(iova, size, true);
    }

    private DmaFault released(long iova, int size, boolean write, RuntimeException e) {
        return space.fault(this, Fault.Kind.AFTER_UNMAP, iova, size, iova, write, "guest memory released: " + e.getMessage());
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
        fillValue = value;
        walk(iova, length, true, false, fillPiece);
        data(iova, length, true);
    }

    /** Copies from a 4 KiB block of the fill byte: no slice object per piece, as {@code asSlice().fill()} would make. */
    private void fillPiece(MemorySegment seg, long off, long at, long done, long n) throws IOException {
        if (fillBufferValue != (fillValue & 0xff)) {
            fillBuffer.fill(fillValue);
            fillBufferValue = fillValue & 0xff;
        }
        for (long k = 0; k < n; k += fillBuffer.byteSize()) {
            long c = Math.min(fillBuffer.byteSize(), n - k);
            if (seg == null) {
                space.remote().write(at + k, fillBuffer, 0, c);
            } else {
                MemorySegment.copy(fillBuffer, 0, seg, off + k, c);
            }
        }
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
        walk(iova, length, write, true, (seg, off, at, done, n) -> {
        });
        walk(iova, length, write, false, (seg, off, at, done, n) -> {
            if (seg == null) {
                MemorySegment bounce = MemorySegment.ofArray(new byte[(int) n]);
                GuestReadTap tap = space.readTap;
                if (!write) {
                    space.remote().read(at, bounce, 0, n);
                    if (tap != null) {
                        tap.read(queue, commandId, at, bounce);
                    }
                }
                visitor.accept(at, bounce);
                if (write) {
                    space.remote().write(at, bounce, 0, n);
                }
            } else {
                MemorySegment piece = seg.asSlice(off, n);
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
