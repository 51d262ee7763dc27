package io.iovalab.os;

import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * read(2)/write(2) on raw descriptors. EINTR is retried everywhere; the buffers must be native
 * segments (the kernel writes into them while Java code runs).
 */
public final class Io {
    /** {@link #read} result for a non-blocking descriptor with nothing to read (EAGAIN). */
    public static final long WOULD_BLOCK = -1;

    private Io() {
    }

    /**
     * One read of at most {@code len} bytes: bytes read, 0 at end of file, or
     * {@link #WOULD_BLOCK} when a non-blocking descriptor has nothing.
     */
    public static long read(Fd fd, MemorySegment buf, long len, String what) throws OsException {
        checkLength(buf, len);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            while (true) {
                long n = (long) Libc.READ.invokeExact(err, fd.value(), buf, len);
                if (n >= 0) {
                    return n;
                }
                int e = Libc.errno(err);
                if (e == Errno.EINTR) {
                    continue;
                }
                if (e == Errno.EAGAIN) {
                    return WOULD_BLOCK;
                }
                throw new OsException(what, e);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Fills {@code buf} completely. End of file before that is an {@link EOFException} naming
     * how far it got; a non-blocking descriptor that runs dry is an EAGAIN {@link OsException}.
     */
    public static void readFully(Fd fd, MemorySegment buf, String what) throws java.io.IOException {
        long off = 0;
        long len = buf.byteSize();
        while (off < len) {
            long n = read(fd, buf.asSlice(off), len - off, what);
            if (n == WOULD_BLOCK) {
                throw new OsException(what, Errno.EAGAIN);
            }
            if (n == 0) {
                throw new EOFException(what + ": end of file after " + off + " of " + len + " bytes");
            }
            off += n;
        }
    }

    /** Writes all of {@code buf}, looping over partial writes. */
    public static void writeFully(Fd fd, MemorySegment buf, String what) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            long off = 0;
            long len = buf.byteSize();
            while (off < len) {
                long n = (long) Libc.WRITE.invokeExact(err, fd.value(), buf.asSlice(off), len - off);
                if (n < 0) {
                    int e = Libc.errno(err);
                    if (e == Errno.EINTR) {
                        continue;
                    }
                    throw new OsException(what, e);
                }
                off += n;
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    static void checkLength(MemorySegment buf, long len) {
        if (len < 0 || len > buf.byteSize()) {
            throw new IndexOutOfBoundsException("length " + len + " outside a buffer of " + buf.byteSize() + " bytes");
        }
    }
}
