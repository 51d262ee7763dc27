package io.iovalab.server;

import io.iovalab.iommu.Backing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One client file (guest RAM memfd) mapped once, shared by every IOVA map that points into it.
 *
 * <p>With a vIOMMU QEMU sends one DMA_MAP per 4 KiB page, each with a fresh duplicate of the same
 * memfd; mapping the file once keeps the server at one mmap per file instead of one per page.
 * The cache holds one reference; every IOVA map holds one more. The munmap (closing the shared
 * arena) happens on the last release, and the arena's close handshake makes a device thread that
 * still touches the memory fail with an exception the IOMMU model turns into a fault.
 */
final class MappedFile implements Backing {
    private final FileKey key;
    private final Arena arena;
    private final MemorySegment segment;
    private final boolean writable;
    private final AtomicInteger refs = new AtomicInteger(1);

    MappedFile(FileKey key, Arena arena, MemorySegment segment, boolean writable) {
        this.key = key;
        this.arena = arena;
        this.segment = segment;
        this.writable = writable;
    }

    FileKey key() {
        return key;
    }

    boolean writable() {
        return writable;
    }

    boolean covers(long offset, long size) {
        return offset >= 0 && size >= 0 && offset + size <= segment.byteSize() && offset + size >= offset;
    }

    /** True when no IOVA map holds the file any more, only the cache's own reference. */
    boolean onlyCached() {
        return refs.get() == 1;
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void retain() {
        if (refs.getAndIncrement() <= 0) {
            throw new IllegalStateException("retain after release of " + describe());
        }
    }

    @Override
    public void release() {
        int left = refs.decrementAndGet();
        if (left == 0) {
            arena.close();
        } else if (left < 0) {
            throw new IllegalStateException("release without retain of " + describe());
        }
    }

    @Override
    public String describe() {
        return "file(dev=" + key.dev() + ",ino=" + key.ino() + ",size=" + segment.byteSize() + (writable ? ",rw)" : ",ro)");
    }

    /** st_dev and st_ino: QEMU duplicates the fd per map, the inode stays the same. */
    record FileKey(long dev, long ino) {
    }
}
