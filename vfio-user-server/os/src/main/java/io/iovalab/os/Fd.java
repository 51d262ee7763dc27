package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * An owned file descriptor, closed exactly once: a second close must not hit whatever file
 * the kernel has since given the same number.
 */
public final class Fd implements AutoCloseable {
    private final int value;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes ownership of {@code value}. */
    public Fd(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("invalid fd " + value);
        }
        this.value = value;
    }

    /** The descriptor number; meaningless once closed (the kernel may reuse it). */
    public int value() {
        return value;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** A new descriptor for the same open file, close-on-exec. */
    public Fd dup() throws OsException {
        return new Fd(fcntl("fcntl(F_DUPFD_CLOEXEC)", Libc.F_DUPFD_CLOEXEC, 0));
    }

    public boolean isCloexec() throws OsException {
        return (fcntl("fcntl(F_GETFD)", Libc.F_GETFD, 0) & Libc.FD_CLOEXEC) != 0;
    }

    public void setCloexec(boolean on) throws OsException {
        int flags = fcntl("fcntl(F_GETFD)", Libc.F_GETFD, 0);
        fcntl("fcntl(F_SETFD)", Libc.F_SETFD, on ? flags | Libc.FD_CLOEXEC : flags & ~Libc.FD_CLOEXEC);
    }

    public boolean isNonBlocking() throws OsException {
        return (fcntl("fcntl(F_GETFL)", Libc.F_GETFL, 0) & Libc.O_NONBLOCK) != 0;
    }

    public void setNonBlocking(boolean on) throws OsException {
        int flags = fcntl("fcntl(F_GETFL)", Libc.F_GETFL, 0);
        fcntl("fcntl(F_SETFL)", Libc.F_SETFL, on ? flags | Libc.O_NONBLOCK : flags & ~Libc.O_NONBLOCK);
    }

    int fcntl(String call, int cmd, int arg) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.FCNTL_INT.invokeExact(err, value, cmd, arg);
            if (r < 0) {
                throw Libc.fail(call, err);
            }
            return r;
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Closes the descriptor the first time; later calls do nothing. close(2) errors are ignored. */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            // Linux releases the descriptor even when close(2) reports EINTR or EIO: never retry
            try (Arena a = Arena.ofConfined()) {
                int ignored = (int) Libc.CLOSE.invokeExact(Libc.errnoBuffer(a), value);
            } catch (Throwable t) {
                throw Libc.rethrow(t);
            }
        }
    }

    /** Closes every non-null element. */
    public static void closeAll(Fd... fds) {
        if (fds == null) {
            return;
        }
        for (Fd f : fds) {
            if (f != null) {
                f.close();
            }
        }
    }

    @Override
    public String toString() {
        return "fd " + value + (closed.get() ? " (closed)" : "");
    }
}
