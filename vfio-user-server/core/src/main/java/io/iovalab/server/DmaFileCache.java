package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.FileStat;
import io.iovalab.os.Memfd;
import io.iovalab.os.Mmap;
import io.iovalab.os.OsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.Map;

/**
 * Deduplicates the fds of DMA_MAP: one mapping per file, whatever the number of maps and fds.
 * Only the message thread calls it.
 *
 * <p>The cache keeps a file mapped after its last IOVA map is gone (QEMU unmaps and maps the
 * same RAM again all the time), but a client mapping and unmapping ever new files must not grow
 * it without end: past {@link #SWEEP_AT} files, files only the cache still holds are unmapped.
 */
final class DmaFileCache {
    private static final Logger log = LoggerFactory.getLogger(DmaFileCache.class);
    private static final int EACCES = 13;
    static final int SWEEP_AT = 64;

    private final Map<MappedFile.FileKey, MappedFile> files = new HashMap<>();
    /** the next sweep runs at this size: doubling keeps sweeps amortised O(1) with many live files */
    private int sweepAt = SWEEP_AT;

    /**
     * The mapped file behind {@code fd} covering [offset, offset+size), retained for the caller.
     * Returns null when the file cannot be mapped; the caller then serves the range by messages.
     */
    MappedFile acquire(Fd fd, long offset, long size) {
        try {
            FileStat st = FileStat.of(fd);
            MappedFile.FileKey key = new MappedFile.FileKey(st.dev(), st.ino());
            MappedFile mf = files.get(key);
            if (mf == null || !mf.covers(offset, size)) {
                if (mf != null) {
                    // the file grew since it was mapped: newer maps use a new mapping, older ones keep theirs
                    files.remove(key).release();
                }
                if (!Memfd.sealShrink(fd)) {
                    // a file the client may shrink under our mapping would SIGBUS the server
                    log.warn("DMA_MAP fd is not a memfd sealed (or sealable) against shrinking; the range will be "
                            + "served by DMA_READ/DMA_WRITE (QEMU: memory-backend-memfd with seal=on, the default)");
                    return null;
                }
                mf = map(key, fd, st.size());
                files.put(key, mf);
                if (files.size() > sweepAt) {
                    sweep(mf);
                }
            }
            if (!mf.covers(offset, size)) {
                log.warn("DMA_MAP range {}+{} lies beyond the end of its file ({} bytes)", offset, size, mf.segment().byteSize());
                return null;
            }
            mf.retain();
            return mf;
        } catch (IOException e) {
            log.warn("DMA_MAP fd cannot be mapped ({}); the range will be served by DMA_READ/DMA_WRITE", e.getMessage());
            return null;
        }
    }

    private static MappedFile map(MappedFile.FileKey key, Fd fd, long fileSize) throws IOException {
        Arena arena = Arena.ofShared();
        try {
            MemorySegment seg;
            boolean writable = true;
            try {
                seg = Mmap.map(fd, 0, fileSize, true, arena);
            } catch (OsException e) {
                if (e.errno() != EACCES) {
                    throw e;
                }
                // a read-only fd (ROM): map it read-only; write maps on it then fault on permission
                seg = Mmap.map(fd, 0, fileSize, false, arena);
                writable = false;
            }
            return new MappedFile(key, arena, seg, writable);
        } catch (IOException | RuntimeException e) {
            arena.close();
            throw e;
        }
    }

    private void sweep(MappedFile keep) {
        var it = files.values().iterator();
        while (it.hasNext()) {
            MappedFile f = it.next();
            if (f != keep && f.onlyCached()) {
                it.remove();
                f.release();
            }
        }
        sweepAt = Math.max(SWEEP_AT, 2 * files.size());
    }

    int size() {
        return files.size();
    }

    /** Drops the cache's own references: files no IOVA map uses any more are unmapped now. */
    void clear() {
        files.values().forEach(MappedFile::release);
        files.clear();
    }
}
