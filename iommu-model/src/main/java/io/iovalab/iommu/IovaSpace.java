package io.iovalab.iommu;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * One device's IOVA space: what the client mapped with VFIO_USER_DMA_MAP, and the only path by
 * which the device reaches guest memory.
 *
 * <p><b>Concurrency.</b> Maps and unmaps come from the message thread (they are serialized here
 * anyway); device threads translate without locks through a concurrent skip list. Each device
 * thread's {@link DmaCommand} handle publishes when it is inside an access. {@link #unmap}
 * removes the translation, marks it dead, then waits until every handle that was inside an
 * access at that moment has left it — an IOTLB invalidation that drains in-flight DMA — and only
 * then releases the backing (whose last release may munmap). So an access that starts after
 * {@code unmap} returned faults, an access that was under way finishes on memory that is still
 * mapped, and the munmap never runs under a reader. Should the backing's memory vanish anyway
 * (its owner closed it), the shared arena's close handshake turns the touching access into an
 * exception that the handle reports as a fault. Accesses served by DMA_READ/DMA_WRITE messages
 * run outside that window, so an unmap never waits for the client.
 */
public final class IovaSpace implements DmaAccess {
    static final int RANGE_BUCKETS = 9;

    private final String deviceName;
    private final RemoteDma remote;
    private final int maxMappings;
    final ConcurrentSkipListMap<Long, Mapping> maps = new ConcurrentSkipListMap<>(Long::compareUnsigned);
    private final CopyOnWriteArrayList<AccessHandle> handles = new CopyOnWriteArrayList<>();
    private final UnmapHistory unmapHistory = new UnmapHistory(4096);
    final FaultLog faultLog = new FaultLog(1024);
    final TraceRing trace = new TraceRing(8192);
    private volatile boolean busMaster;
    volatile GuestReadTap readTap;

    // statistics
    private long mapCount;
    private long unmapCount;
    private long unmappedMaps;
    private long mappedBytes;
    private long highWater;
    final LongAdder bytesRead = new LongAdder();
    final LongAdder bytesWritten = new LongAdder();
    final LongAdder controlBytes = new LongAdder();
    final LongAdder remoteBytes = new LongAdder();
    final LongAdder commands = new LongAdder();
    final AtomicLongArray rangesPerCommand = new AtomicLongArray(RANGE_BUCKETS);
    final LongAdder multiPage = new LongAdder();
    final LongAdder contiguousMultiPage = new LongAdder();
    private final Log2Histogram lifetimes = new Log2Histogram();
    private final AtomicLong liveMaps = new AtomicLong();

    public IovaSpace(String deviceName, RemoteDma remote) {
        this(deviceName, remote, Integer.MAX_VALUE);
    }

    public IovaSpace(String deviceName, RemoteDma remote, int maxMappings) {
        this.deviceName = deviceName;
        this.remote = remote;
        this.maxMappings = maxMappings;
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
        if (((iova | size) & 0xfff) != 0) {
            throw new MapException(MapException.EINVAL, "DMA_MAP 0x" + Long.toHexString(iova) + "+0x"
                    + Long.toHexString(size) + " is not 4 KiB aligned");
        }
        if (backing != null && (offset < 0 || offset > backing.segment().byteSize() - size)) {
            throw new MapException(MapException.EINVAL, "DMA_MAP offset 0x" + Long.toHexString(offset) + "+0x"
                    + Long.toHexString(size) + " lies beyond its file (" + backing.segment().byteSize() + " bytes)");
        }
        Map.Entry<Long, Mapping> below = maps.floorEntry(last);
        if (below != null && Long.compareUnsigned(below.getValue().end() - 1, iova) >= 0) {
            Mapping m = below.getValue();
            throw new MapException(MapException.EEXIST, "DMA_MAP 0x" + Long.toHexString(iova) + "+0x"
                    + Long.toHexString(size) + " overlaps the map 0x" + Long.toHexString(m.iova) + "+0x" + Long.toHexString(m.size));
        }
        if (liveMaps.get() >= maxMappings) {
            throw new MapException(MapException.ENOSPC, "DMA_MAP refused: " + maxMappings + " maps already live");
        }
        if (backing != null) {
            backing.retain();
        }
        long now = System.nanoTime();
        maps.put(iova, new Mapping(iova, size, backing, offset, readable, writable, now));
        liveMaps.incrementAndGet();
        mapCount++;
        mappedBytes += size;
        highWater = Math.max(highWater, mappedBytes);
        trace.record(TraceEvent.Kind.MAP, iova, size, -1, -1, offset);
    }

    /**
     * VFIO_USER_DMA_UNMAP: afterwards no byte of [iova, iova+size) translates. Maps straddling an
     * edge keep their outside parts; a range covering nothing is fine (QEMU sends huge unmaps over
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
        unmapCount++;
        List<Mapping> removed = new ArrayList<>();
        Map.Entry<Long, Mapping> first = maps.floorEntry(iova);
        Long from = first != null && Long.compareUnsigned(first.getValue().end() - 1, iova) >= 0 ? first.getKey() : iova;
        ConcurrentNavigableMap<Long, Mapping> hit = maps.subMap(from, true, last, true);
        long bytes = 0;
        for (Mapping m : new ArrayList<>(hit.values())) {
            long cutFrom = Long.compareUnsigned(m.iova, iova) < 0 ? iova : m.iova;
            long cutLast = Long.compareUnsigned(m.end() - 1, last) > 0 ? last : m.end() - 1;
            // insert what survives before removing the original, so its outside parts never blink
            if (Long.compareUnsigned(m.end() - 1, last) > 0) {
                insertPiece(m.slice(last + 1, m.end()));
            }
            if (Long.compareUnsigned(m.iova, iova) < 0) {
                maps.put(m.iova, m.slice(m.iova, iova));
                liveMaps.incrementAndGet();
                if (m.backing != null) {
                    m.backing.retain();
                }
            }
            maps.remove(m.iova, m);
            m.dead = true;
            liveMaps.decrementAndGet();
            removed.add(m);
            bytes += cutLast - cutFrom + 1;
        }
        long now = System.nanoTime();
        unmapHistory.add(iova, last + 1 == 0 ? -1L : last + 1, now);
        trace.record(TraceEvent.Kind.UNMAP, iova, size, -1, -1, bytes);
        finishUnmap(removed, bytes, now);
        return bytes;
    }

    private void insertPiece(Mapping piece) {
        maps.put(piece.iova, piece);
        liveMaps.incrementAndGet();
        if (piece.backing != null) {
            piece.backing.retain();
        }
    }

    /** VFIO_DMA_UNMAP_FLAG_ALL, and what a disconnect does. Returns the bytes unmapped. */
    public synchronized long unmapAll() {
        unmapCount++;
        List<Mapping> removed = new ArrayList<>(maps.values());
        long bytes = 0;
        long now = System.nanoTime();
        for (Mapping m : removed) {
            maps.remove(m.iova, m);
            m.dead = true;
            bytes += m.size;
            unmapHistory.add(m.iova, m.end(), now);
        }
        liveMaps.addAndGet(-removed.size());
        trace.record(TraceEvent.Kind.UNMAP_ALL, 0, 0, -1, -1, bytes);
        finishUnmap(removed, bytes, now);
        return bytes;
    }

    private void finishUnmap(List<Mapping> removed, long bytes, long now) {
        awaitReaders();
        for (Mapping m : removed) {
            lifetimes.add((now - m.mappedAtNanos) / 1000);
            if (m.backing != null) {
                m.backing.release();
            }
        }
        unmappedMaps += removed.size();
        mappedBytes -= bytes;
    }

    /** Waits until every handle that was inside an access has left it (a grace period). */
    private void awaitReaders() {
        for (AccessHandle h : handles) {
            long s = h.state;
            if ((s & 1) != 0) {
                int spins = 0;
                while (h.state == s) {
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

    Mapping lookup(long iova) {
        Map.Entry<Long, Mapping> e = maps.floorEntry(iova);
        if (e == null) {
            return null;
        }
        Mapping m = e.getValue();
        return m.contains(iova) ? m : null;
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
        return new Statistics(mapCount, unmapCount, unmappedMaps, liveMaps.get(), mappedBytes, highWater,
                faultLog.total(), bytesRead.sum(), bytesWritten.sum(), controlBytes.sum(), remoteBytes.sum(),
                commands.sum(), ranges, multiPage.sum(), contiguousMultiPage.sum(), lifetimes.snapshot());
    }

    /** The current map in IOVA order. */
    public List<MapEntry> dump() {
        List<MapEntry> out = new ArrayList<>();
        for (Mapping m : maps.values()) {
            out.add(m.toEntry());
        }
        return out;
    }

    public int liveMappings() {
        return (int) liveMaps.get();
    }

    public void close() {
        unmapAll();
        handles.clear();
    }
}
