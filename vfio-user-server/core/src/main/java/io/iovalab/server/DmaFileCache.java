package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.FileStat;
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
 */
final class DmaFileCache {
    private static final Logger log = LoggerFactory.getLogger(DmaFileCache.class);
    private static final int EACCES = 13;

    private final Map<MappedFile.FileKey, MappedFile> files = new HashMap<>();

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
                mf = map(key, fd, st.size());
                files.put(key, mf);
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

    int size() {
        return files.size();
    }

    /** Drops the cache's own references: files no IOVA map uses any more are unmapped now. */
    void clear() {
        files.values().forEach(MappedFile::release);
        files.clear();
    }
}
