package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** read(2)/write(2) on raw descriptors, retrying EINTR. */
public final class Io {
    private Io() {
    }

    /** One read; returns bytes read, 0 at EOF, 0 for EAGAIN on a non-blocking fd. */
    public static long read(Fd fd, MemorySegment buf, long len, String what) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            while (true) {
                long n = (long) Libc.READ.invokeExact(err, fd.value(), buf, len);
                if (n >= 0) {
                    return n;
                }
                int e = Libc.errno(err);
                if (e == Libc.EINTR) {
                    continue;
                }
                if (e == Libc.EAGAIN) {
                    return 0;
                }
                throw new OsException(what, e);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static void writeFully(Fd fd, MemorySegment buf, String what) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            long off = 0;
            long len = buf.byteSize();
            while (off < len) {
                long n = (long) Libc.WRITE.invokeExact(err, fd.value(), buf.asSlice(off), len - off);
                if (n < 0) {
                    int e = Libc.errno(err);
                    if (e == Libc.EINTR) {
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
}
