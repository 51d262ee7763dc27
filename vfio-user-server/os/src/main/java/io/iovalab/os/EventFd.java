package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** eventfd(2): interrupts go to the guest by adding 1 to an eventfd's counter. */
public final class EventFd {
    private EventFd() {
    }

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

    public static void add(Fd fd, long value) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            buf.set(ValueLayout.JAVA_LONG_UNALIGNED, 0, value);
            Io.writeFully(fd, buf, "write(eventfd)");
        }
    }

    /** Reads and resets the counter; returns 0 if a non-blocking eventfd had nothing. */
    public static long read(Fd fd) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(8);
            long n = Io.read(fd, buf, 8, "read(eventfd)");
            return n == 8 ? buf.get(ValueLayout.JAVA_LONG_UNALIGNED, 0) : 0;
        }
    }
}
