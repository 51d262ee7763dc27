package io.iovalab.iommu;

import java.lang.invoke.VarHandle;
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
    final MapStore store;
    private final CopyOnWriteArrayList<AccessHandle> handles = new CopyOnWriteArrayList<>();
    private final UnmapHistory unmapHistory = new UnmapHistory(4096);
    final FaultLog faultLog = new FaultLog(1024);
    final TraceRing trace = new TraceRing(8192);
    private volatile boolean busMaster;
    /** Bumped by every unmap once its entries are cleared: how unguarded reads notice they raced one. */
    private volatile long unmapEpoch;
    volatile GuestReadTap readTap;

    // statistics
    private long mapCount;
    private long unmapCount;
    private long unmappedMaps;
    private long mappedBytes;
    private long highWater;
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
        this.store = new MapStore(tableMaxPages);
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
        store.checkFree(iova, size, last);
        if (store.live() >= maxMappings) {
            throw new MapException(MapException.ENOSPC, "DMA_MAP refused: " + maxMappings + " maps already live");
        }
        long now = System.nanoTime();
        store.add(iova, size, backing, offset, readable, writable, now);
        mapCount++;
        mappedBytes += size;
        highWater = Math.max(highWater, mappedBytes);
        trace.record(TraceEvent.Kind.MAP, iova, size, -1, -1, offset, now);
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
        long bytes = store.remove(from, last);
        long now = System.nanoTime();
        unmapHistory.add(from, last + 1 == 0 ? -1L : last + 1, now);
        trace.record(TraceEvent.Kind.UNMAP, iova, size, -1, -1, bytes, now);
        finishUnmap(bytes, now);
        return bytes;
    }

    /** VFIO_DMA_UNMAP_FLAG_ALL, and what a disconnect does. Returns the bytes unmapped. */
    public synchronized long unmapAll() {
        unmapCount++;
        long now = System.nanoTime();
        long bytes = store.removeAll(unmapHistory, now);
        trace.record(TraceEvent.Kind.UNMAP_ALL, 0, 0, -1, -1, bytes, now);
        finishUnmap(bytes, now);
        return bytes;
    }

    private void finishUnmap(long bytes, long now) {
        unmapEpoch = unmapEpoch + 1;
        store.trim();
        awaitReaders();
        unmappedMaps += store.releaseRemoved(now, lifetimes);
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

    /** Installs (or with null removes) the observer of guest-memory reads: session recording and replay. */
    public void setReadTap(GuestReadTap tap) {
        readTap = tap;
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
        return new Statistics(mapCount, unmapCount, unmappedMaps, store.live(), mappedBytes, highWater,
                faultLog.total(), read, written, control, remoteBytes,
                commands.sum(), ranges, multiPage.sum(), contiguousMultiPage.sum(), lifetimes.snapshot());
    }

    /** The current map in IOVA order. */
    public synchronized List<MapEntry> dump() {
        return store.dump();
    }

    public int liveMappings() {
        return (int) store.live();
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
