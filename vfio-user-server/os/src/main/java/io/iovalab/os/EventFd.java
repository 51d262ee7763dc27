package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * eventfd(2): a 64-bit counter behind a descriptor. Interrupts go to the guest by adding 1;
 * a read returns the sum of all adds since the previous read and resets it to 0.
 */
public final class EventFd {
    private EventFd() {
    }

    /** A new eventfd with counter 0, close-on-exec, optionally non-blocking. */
    public static Fd create(boolean nonBlocking) throws OsException {
        int flags = Libc.EFD_CLOEXEC | (nonBlocking ? Libc.EFD_NONBLOCK : 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int fd = (int) Libc.EVENTFD.invokeExact(err, 0, flags);
            if (fd < 0) {
                throw Libc.fail("eventfd", err);
            }
            return new Fd(fd);
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Adds 1 to the counter (what an interrupt is). */
    public static void signal(Fd fd) throws OsException {
        add(fd, 1);
    }

    /** Adds {@code value} (1 .. 2^64-2) to the counter with one 8-byte write. */
    public static void add(Fd fd, long value) throws OsException {
        if (value == 0 || value == -1L) {
            // 0 is a no-op the kernel accepts silently; 0xffffffffffffffff is EINVAL
            throw new IllegalArgumentException("eventfd increment must be in 1 .. 2^64-2, got " + Long.toUnsignedString(value));
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
            Io.writeFully(fd, buf, "write(eventfd)");
        }
    }

    /**
     * Reads and resets the counter. A blocking eventfd waits for a non-zero counter; a
     * non-blocking one returns 0 when nothing was added.
     */
    public static long read(Fd fd) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            long n = Io.read(fd, buf, 8, "read(eventfd)");
            if (n == Io.WOULD_BLOCK) {
                return 0;
            }
            if (n != 8) {
                throw new OsException("read(eventfd) returned " + n + " bytes, not 8", Errno.EINVAL);
            }
            return buf.get(ValueLayout.JAVA_LONG_UNALIGNED, 0);
        }
    }
}
