package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/** An owned file descriptor, closed exactly once. */
public final class Fd implements AutoCloseable {
    private final int value;
    private final AtomicBoolean closed = new AtomicBoolean();

    public Fd(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("invalid fd " + value);
        }
        this.value = value;
    }

    public int value() {
        return value;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** A new descriptor for the same open file, close-on-exec. */
    public Fd dup() throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.FCNTL_INT.invokeExact(err, value, Libc.F_DUPFD_CLOEXEC, 0);
            if (r < 0) {
                throw Libc.fail("fcntl(F_DUPFD_CLOEXEC)", err);
            }
            return new Fd(r);
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            closeRaw(value);
        }
    }

    static void closeRaw(int fd) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) Libc.CLOSE.invokeExact(Libc.errnoBuffer(a), fd);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    @Override
    public String toString() {
        return "fd " + value + (closed.get() ? " (closed)" : "");
    }
}
