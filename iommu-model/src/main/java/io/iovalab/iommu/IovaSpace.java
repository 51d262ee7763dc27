package io.iovalab.iommu;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One device's IOVA space: what the client mapped with VFIO_USER_DMA_MAP, and the only path by
 * which the device reaches guest memory.
 *
 * <p><b>Layout.</b> Maps of up to {@link #TABLE_MAX_PAGES} pages (the vIOMMU case: one DMA_MAP
 * per page the guest kernel maps) live in a {@link PageTable} of packed entries, so a hit is a
 * few array loads and a map costs a few bytes of heap; bigger ones (guest RAM mapped whole) stay
 * whole in {@link LargeMaps}. Unmaps cut at page granularity.
 *
 * <p><b>Concurrency.</b> Maps and unmaps come from the message thread (they are serialized here
 * anyway); device threads translate without locks. {@link #unmap} clears the entries, bumps the
 * unmap epoch, fences, waits out the accesses that are under way, and only then releases the
 * backing (whose last release may munmap). Two kinds of access, because a fence per access costs
 * more than the translation:
 * <ul>
 * <li>Accesses with effects that cannot be taken back — device writes, zero-copy visits — run
 *     inside a window their handle publishes (a volatile store, i.e. a fence), and the unmap
 *     waits until every handle that was inside one has left it: an IOTLB invalidation that drains
 *     in-flight DMA. Such an access either started before the unmap and finishes on memory that is
 *     still mapped, or sees the cleared entry and faults.
 * <li>Reads that only copy out run unguarded and check the epoch afterwards: if an unmap overlapped
 *     them they are thrown away and replayed (and then fault if their page went); after a couple
 *     of replays a read takes the window, so a stream of unmaps cannot starve it. A copy that
 *     survives the check was made while the memory was still mapped. The memory itself cannot
 *     vanish under such a read: backings free it by closing a shared arena, whose close handshake
 *     turns an access under way into an exception, reported as a fault.
 * </ul>
 * Accesses served by DMA_READ/DMA_WRITE messages run outside the window, so an unmap never waits
 * for the client.
 */
public final class IovaSpace implements DmaAccess {
    static final int RANGE_BUCKETS = 9;
    static final long TABLE_MAX_PAGES = 512;

    private final String deviceName;
    private final RemoteDma remote;
    private final int maxMappings;
    private final long tableMaxPages;
    final PageTable table = new PageTable();
    final BackingSlots slots = new BackingSlots();
    final LargeMaps large = new LargeMaps();
    private final MapIds ids = new MapIds();
    private final CopyOnWriteArrayList<AccessHandle> handles = new CopyOnWriteArrayList<>();
    private final UnmapHistory unmapHistory = new UnmapHistory(4096);
    final FaultLog faultLog = new FaultLog(1024);
    final TraceRing trace = new TraceRing(8192);
    private volatile boolean busMaster;
    /** Bumped by every unmap once its entries are cleared: how unguarded reads notice they raced one. */
    private volatile long unmapEpoch;

    // maps an unmap removed, released once its grace period is over: (id, slot) pairs and large maps
    private long[] pending = new long[16];
    private int pendingCount;
    private final List<Mapping> pendingLarge = new ArrayList<>();

    // statistics
    private long mapCount;
    private long unmapCount;
    private long unmappedMaps;
    private long mappedBytes;
    private long highWater;
    private volatile long live;
    private final AccessCounters retired = new AccessCounters();
    final LongAdder commands = new LongAdder();
    final AtomicLongArray rangesPerCommand = new AtomicLongArray(RANGE_BUCKETS);
    final LongAdder multiPage = new LongAdder();
    final LongAdder contiguousMultiPage = new LongAdder();
    private final Log2Histogram lifetimes = new Log2Histogram();

    public IovaSpace(String deviceName, RemoteDma remote) {
        this(deviceName, remote, Integer.MAX_VALUE);
    }

    public IovaSpace(String deviceName, RemoteDma remote, int maxMappings) {
        this(deviceName, remote, maxMappings, TABLE_MAX_PAGES);
    }

    /** {@code tableMaxPages}: tests move the line between the two layouts to mix them. */
    IovaSpace(String deviceName, RemoteDma remote, int maxMappings, long tableMaxPages) {
        this.deviceName = deviceName;
        this.remote = remote;
        this.maxMappings = maxMappings;
        this.tableMaxPages = tableMaxPages;
    }

    @Override
    public String deviceName() {
        return deviceName;
    }

    @Override
    public DmaCommand newCommand() {
        AccessHandle h = new AccessHandle(this);
        handles.add(h);
        return h;
    }

    RemoteDma remote() {
        return remote;
    }

    long unmapEpoch() {
        return unmapEpoch;
    }

    boolean busMasterEnabled() {
        return busMaster;
    }

    /** PCI Command.BME: while clear, every access faults (the device must not DMA). */
    public void setBusMasterEnabled(boolean enabled) {
        busMaster = enabled;
    }

    /** VFIO_USER_DMA_MAP. {@code backing} null = served by DMA_READ/DMA_WRITE messages. */
    public synchronized void map(long iova, long size, Backing backing, long offset, boolean readable, boolean writable)
            throws MapException {
        if (size <= 0) {
            throw new MapException(MapException.EINVAL, "DMA_MAP of size " + Long.toUnsignedString(size));
        }
        long last = iova + size - 1;
        if (Long.compareUnsigned(last, iova) < 0) {
            throw new MapException(MapException.EINVAL, "DMA_MAP 0x" + Long.toHexString(iova) + "+0x"
                    + Long.toHexString(size) + " wraps around the address space");
        }
        if (((iova | size) & Pte.PAGE_MASK) != 0) {
            throw new MapException(MapException.EINVAL, "DMA_MAP 0x" + Long.toHexString(iova) + "+0x"
                    + Long.toHexString(size) + " is not 4 KiB aligned");
        }
        if (backing != null && (offset < 0 || offset > backing.segment().byteSize() - size)) {
            throw new MapException(MapException.EINVAL, "DMA_MAP offset 0x" + Long.toHexString(offset) + "+0x"
                    + Long.toHexString(size) + " lies beyond its file (" + backing.segment().byteSize() + " bytes)");
        }
        checkFree(iova, size, last);
        if (live >= maxMappings) {
            throw new MapException(MapException.ENOSPC, "DMA_MAP refused: " + maxMappings + " maps already live");
        }
        long now = System.nanoTime();
        long pages = size >>> Pte.PAGE_SHIFT;
        int slot = pages <= tableMaxPages ? slots.acquire(backing) : -1;
        if (slot >= 0) {
            int id = ids.allocate(now);
            long first = iova >>> Pte.PAGE_SHIFT;
            for (long k = 0; k < pages; k++) {
                table.set(first + k, Pte.of(slot, backing == null ? 0 : offset + (k << Pte.PAGE_SHIFT), readable, writable), id);
            }
        } else {
            large.add(new Mapping(iova, size, backing, offset, readable, writable, now));
        }
        if (backing != null) {
            backing.retain();
        }
        live++;
        mapCount++;
        mappedBytes += size;
        highWater = Math.max(highWater, mappedBytes);
        trace.record(TraceEvent.Kind.MAP, iova, size, -1, -1, offset);
    }

    private void checkFree(long iova, long size, long last) throws MapException {
        long taken = 0;
        long takenSize = 0; // stays 0 when the range is free: no map is empty
        Mapping m = large.overlapping(iova, last);
        if (m != null) {
            taken = m.iova;
            takenSize = m.size;
        } else {
            long p = table.next(iova >>> Pte.PAGE_SHIFT, last >>> Pte.PAGE_SHIFT);
            if (p >= 0) {
                long first = extentStart(p);
                taken = first << Pte.PAGE_SHIFT;
                takenSize = (extentLast(p, Pte.LAST_PAGE) - first + 1) << Pte.PAGE_SHIFT;
            }
        }
        if (takenSize != 0) {
            throw new MapException(MapException.EEXIST, "DMA_MAP 0x" + Long.toHexString(iova) + "+0x"
                    + Long.toHexString(size) + " overlaps the map 0x" + Long.toHexString(taken) + "+0x" + Long.toHexString(takenSize));
        }
    }

    /** First page of the table map owning {@code page}. */
    private long extentStart(long page) {
        int id = table.owner(page);
        while (page > 0 && table.owner(page - 1) == id) {
            page--;
        }
        return page;
    }

    /** Last page, at most {@code limit}, of the table map owning {@code page}. */
    private long extentLast(long page, long limit) {
        int id = table.owner(page);
        while (page < limit && table.owner(page + 1) == id) {
            page++;
        }
        return page;
    }

    /**
     * VFIO_USER_DMA_UNMAP: afterwards no byte of [iova, iova+size) translates. A page is the unit
     * of translation, so a range cutting into a page unmaps all of it. Maps straddling an edge
     * keep their outside parts; a range covering nothing is fine (QEMU sends huge unmaps over
     * mostly empty space when a vIOMMU is disabled). Returns the bytes unmapped.
     */
    public synchronized long unmap(long iova, long size) {
        if (size == 0) {
            return 0;
        }
        long last = iova + size - 1;
        if (Long.compareUnsigned(last, iova) < 0) {
            last = -1L; // up to the top of the address space
        }
        long from = iova & ~Pte.PAGE_MASK;
        last |= Pte.PAGE_MASK;
        unmapCount++;
        long bytes = unmapTable(from >>> Pte.PAGE_SHIFT, last >>> Pte.PAGE_SHIFT) + unmapLarge(from, last);
        long now = System.nanoTime();
        unmapHistory.add(from, last + 1 == 0 ? -1L : last + 1, now);
        trace.record(TraceEvent.Kind.UNMAP, iova, size, -1, -1, bytes);
        finishUnmap(bytes, now);
        return bytes;
    }

    private long unmapTable(long first, long last) {
        long bytes = 0;
        for (long p = table.next(first, last); p >= 0; ) {
            int id = table.owner(p);
            long pte = table.pte(p);
            long q = extentLast(p, last);
            // what survives outside the range becomes a map of its own; its entries never change
            if (p == first && p > 0 && table.owner(p - 1) == id) {
                splitOff(p - 1, -1, id, pte);
            }
            if (q == last && q < Pte.LAST_PAGE && table.owner(q + 1) == id) {
                splitOff(q + 1, 1, id, pte);
            }
            for (long k = p; k <= q; k++) {
                table.clear(k);
            }
            bytes += (q - p + 1) << Pte.PAGE_SHIFT;
            defer(id, Pte.slot(pte));
            p = q == last ? -1 : table.next(q + 1, last);
        }
        return bytes;
    }

    /** Gives the pages of map {@code id} from {@code page} on, walking by {@code step}, a new id. */
    private void splitOff(long page, int step, int id, long pte) {
        int piece = ids.allocate(ids.mappedAt(id));
        for (long k = page; k >= 0 && k <= Pte.LAST_PAGE && table.owner(k) == id; k += step) {
            table.relabel(k, piece);
        }
        int slot = Pte.slot(pte);
        slots.retain(slot);
        Backing b = slots.backing(slot);
        if (b != null) {
            b.retain();
        }
        live++;
    }

    private void defer(int id, int slot) {
        if (pendingCount == pending.length) {
            pending = Arrays.copyOf(pending, pending.length * 2);
        }
        pending[pendingCount++] = (long) id << 32 | slot;
        live--;
    }

    private long unmapLarge(long iova, long last) {
        Mapping[] all = large.all();
        if (all.length == 0) {
            return 0;
        }
        List<Mapping> keep = new ArrayList<>(all.length + 1);
        long bytes = 0;
        for (Mapping m : all) {
            if (Long.compareUnsigned(m.iova, last) > 0 || Long.compareUnsigned(m.end() - 1, iova) < 0) {
                keep.add(m);
                continue;
            }
            long cutFrom = Long.compareUnsigned(m.iova, iova) < 0 ? iova : m.iova;
            long cutLast = Long.compareUnsigned(m.end() - 1, last) > 0 ? last : m.end() - 1;
            if (Long.compareUnsigned(m.iova, iova) < 0) {
                keep.add(survivor(m.slice(m.iova, iova)));
            }
            if (Long.compareUnsigned(m.end() - 1, last) > 0) {
                keep.add(survivor(m.slice(last + 1, m.end())));
            }
            pendingLarge.add(m);
            live--;
            bytes += cutLast - cutFrom + 1;
        }
        if (keep.size() != all.length || bytes != 0) {
            large.replace(keep.toArray(new Mapping[0])); // survivors keep their order; one store, so nothing blinks
        }
        return bytes;
    }

    private Mapping survivor(Mapping piece) {
        if (piece.backing != null) {
            piece.backing.retain();
        }
        live++;
        return piece;
    }

    /** VFIO_DMA_UNMAP_FLAG_ALL, and what a disconnect does. Returns the bytes unmapped. */
    public synchronized long unmapAll() {
        unmapCount++;
        long bytes = 0;
        long now = System.nanoTime();
        for (long p = table.next(0, Pte.LAST_PAGE); p >= 0; ) {
            int id = table.owner(p);
            long pte = table.pte(p);
            long q = extentLast(p, Pte.LAST_PAGE);
            for (long k = p; k <= q; k++) {
                table.clear(k);
            }
            bytes += (q - p + 1) << Pte.PAGE_SHIFT;
            unmapHistory.add(p << Pte.PAGE_SHIFT, (q + 1) << Pte.PAGE_SHIFT, now);
            defer(id, Pte.slot(pte));
            p = q == Pte.LAST_PAGE ? -1 : table.next(q + 1, Pte.LAST_PAGE);
        }
        for (Mapping m : large.all()) {
            bytes += m.size;
            unmapHistory.add(m.iova, m.end(), now);
            pendingLarge.add(m);
            live--;
        }
        large.replace(new Mapping[0]);
        trace.record(TraceEvent.Kind.UNMAP_ALL, 0, 0, -1, -1, bytes);
        finishUnmap(bytes, now);
        return bytes;
    }

    private void finishUnmap(long bytes, long now) {
        unmapEpoch = unmapEpoch + 1;
        table.trim();
        awaitReaders();
        for (int i = 0; i < pendingCount; i++) {
            int id = (int) (pending[i] >>> 32);
            int slot = (int) pending[i];
            lifetimes.add((now - ids.mappedAt(id)) / 1000);
            ids.free(id);
            Backing b = slots.backing(slot);
            slots.release(slot);
            if (b != null) {
                b.release();
            }
        }
        for (Mapping m : pendingLarge) {
            lifetimes.add((now - m.mappedAtNanos) / 1000);
            if (m.backing != null) {
                m.backing.release();
            }
        }
        unmappedMaps += pendingCount + pendingLarge.size();
        pendingCount = 0;
        pendingLarge.clear();
        mappedBytes -= bytes;
    }

    /** Waits until every handle that was inside an access has left it (a grace period). */
    private void awaitReaders() {
        // the cleared entries must be visible before we look: pairs with the fence in AccessHandle.enter
        VarHandle.fullFence();
        for (AccessHandle h : handles) {
            long s = h.state();
            if ((s & 1) != 0) {
                int spins = 0;
                while (h.state() == s) {
                    if (++spins > 100) {
                        Thread.yield();
                    } else {
                        Thread.onSpinWait();
                    }
                }
            }
        }
    }

    long unmappedAt(long iova) {
        return unmapHistory.unmappedAt(iova);
    }

    /**
     * Folds one command in. A command's data is contiguous when, per direction, it touched one
     * IOVA range (a copy engine has a source and a destination; an NVMe command one buffer).
     */
    void recordCommand(int readRanges, int writeRanges, long bytes) {
        commands.increment();
        int ranges = readRanges + writeRanges;
        rangesPerCommand.incrementAndGet(Math.min(ranges, RANGE_BUCKETS) - 1);
        if (bytes > 4096) {
            multiPage.increment();
            if (readRanges <= 1 && writeRanges <= 1) {
                contiguousMultiPage.increment();
            }
        }
    }

    DmaFault fault(AccessHandle h, Fault.Kind kind, long iova, long length, long faultIova, boolean write, String detail) {
        long unmappedAt = kind == Fault.Kind.AFTER_UNMAP ? unmappedAt(faultIova) : 0;
        Fault f = new Fault(deviceName, h.queue(), h.commandId(), iova, length, faultIova, write, kind, unmappedAt,
                detail, System.nanoTime());
        faultLog.add(f);
        trace.record(TraceEvent.Kind.FAULT, faultIova, length, h.queue(), h.commandId(), kind.ordinal());
        return new DmaFault(f);
    }

    public FaultLog faults() {
        return faultLog;
    }

    public TraceRing trace() {
        return trace;
    }

    public synchronized Statistics statistics() {
        long[] ranges = new long[RANGE_BUCKETS];
        for (int i = 0; i < RANGE_BUCKETS; i++) {
            ranges[i] = rangesPerCommand.get(i);
        }
        long read = retired.read();
        long written = retired.written();
        long control = retired.control();
        long remoteBytes = retired.remote();
        for (AccessHandle h : handles) {
            read += h.counters.read();
            written += h.counters.written();
            control += h.counters.control();
            remoteBytes += h.counters.remote();
        }
        return new Statistics(mapCount, unmapCount, unmappedMaps, live, mappedBytes, highWater,
                faultLog.total(), read, written, control, remoteBytes,
                commands.sum(), ranges, multiPage.sum(), contiguousMultiPage.sum(), lifetimes.snapshot());
    }

    /** The current map in IOVA order. */
    public synchronized List<MapEntry> dump() {
        List<MapEntry> out = new ArrayList<>();
        Mapping[] big = large.all();
        int b = 0;
        for (long p = table.next(0, Pte.LAST_PAGE); p >= 0; ) {
            long q = extentLast(p, Pte.LAST_PAGE);
            long iova = p << Pte.PAGE_SHIFT;
            while (b < big.length && Long.compareUnsigned(big[b].iova, iova) < 0) {
                out.add(big[b++].toEntry());
            }
            long pte = table.pte(p);
            Backing backing = slots.backing(Pte.slot(pte));
            out.add(new MapEntry(iova, (q - p + 1) << Pte.PAGE_SHIFT,
                    backing == null ? "remote (DMA_READ/DMA_WRITE)" : backing.describe(),
                    backing == null ? 0 : Pte.offset(pte), Pte.allows(pte, false), Pte.allows(pte, true),
                    ids.mappedAt(table.owner(p))));
            p = q == Pte.LAST_PAGE ? -1 : table.next(q + 1, Pte.LAST_PAGE);
        }
        while (b < big.length) {
            out.add(big[b++].toEntry());
        }
        return out;
    }

    public int liveMappings() {
        return (int) live;
    }

    public void close() {
        unmapAll();
        synchronized (this) {
            for (AccessHandle h : handles) {
                retired.add(h.counters);
            }
            handles.clear();
        }
    }
}
