package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The fstat(2) fields iovalab uses. (st_dev, st_ino) identify a file across the duplicate fds
 * QEMU sends with every DMA_MAP.
 */
public record FileStat(long dev, long ino, int mode, long size) {
    // struct stat on x86-64: st_dev@0, st_ino@8, st_nlink@16, st_mode@24, st_size@48; 144 bytes
    private static final int SIZEOF_STAT = 144;

    public static final int S_IFMT = 0170000;
    public static final int S_IFSOCK = 0140000;
    public static final int S_IFREG = 0100000;

    public static FileStat of(Fd fd) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment st = a.allocate(SIZEOF_STAT, 8);
            int r = (int) Libc.FSTAT.invokeExact(err, fd.value(), st);
            if (r < 0) {
                throw Libc.fail("fstat", err);
            }
            return new FileStat(st.get(ValueLayout.JAVA_LONG, 0), st.get(ValueLayout.JAVA_LONG, 8),
                    st.get(ValueLayout.JAVA_INT, 24), st.get(ValueLayout.JAVA_LONG, 48));
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public boolean isSocket() {
        return (mode & S_IFMT) == S_IFSOCK;
    }
}
