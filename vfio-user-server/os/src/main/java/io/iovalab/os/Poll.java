package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** poll(2) on a few descriptors, so blocking loops can be woken (by an eventfd) and stopped. */
public final class Poll {
    public static final short POLLIN = 0x1;
    public static final short POLLOUT = 0x4;
    public static final short POLLERR = 0x8;
    public static final short POLLHUP = 0x10;
    public static final short POLLNVAL = 0x20;
    /** poll timeout meaning "wait forever". */
    public static final int INFINITE = -1;

    // struct pollfd { int fd; short events; short revents; }
    private static final long POLLFD_SIZE = 8;

    private Poll() {
    }

    /**
     * Waits until one of {@code fds} is readable, hung up or in error.
     *
     * @return index of the first ready fd, or -1 on timeout
     */
    public static int readable(int timeoutMillis, Fd... fds) throws OsException {
        short[] events = new short[fds.length];
        java.util.Arrays.fill(events, POLLIN);
        short[] revents = poll(timeoutMillis, fds, events);
        for (int i = 0; i < revents.length; i++) {
            if (revents[i] != 0) {
                return i;
            }
        }
        return -1;
    }

    /**
     * poll(2): waits up to {@code timeoutMillis} ({@link #INFINITE} = forever) for any of
     * {@code events[i]} on {@code fds[i]}; returns each fd's revents (all 0 on timeout).
     * EINTR restarts the wait with the full timeout.
     */
    public static short[] poll(int timeoutMillis, Fd[] fds, short[] events) throws OsException {
        if (fds.length != events.length) {
            throw new IllegalArgumentException(fds.length + " fds but " + events.length + " event masks");
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment pfds = a.allocate(POLLFD_SIZE * Math.max(1, fds.length), 4);
            for (int i = 0; i < fds.length; i++) {
                pfds.set(ValueLayout.JAVA_INT, POLLFD_SIZE * i, fds[i].value());
                pfds.set(ValueLayout.JAVA_SHORT, POLLFD_SIZE * i + 4, events[i]);
                pfds.set(ValueLayout.JAVA_SHORT, POLLFD_SIZE * i + 6, (short) 0);
            }
            while (true) {
                int r = (int) Libc.POLL.invokeExact(err, pfds, (long) fds.length, timeoutMillis);
                if (r < 0) {
                    if (Libc.errno(err) == Errno.EINTR) {
                        continue;
                    }
                    throw Libc.fail("poll", err);
                }
                short[] revents = new short[fds.length];
                for (int i = 0; i < fds.length; i++) {
                    revents[i] = pfds.get(ValueLayout.JAVA_SHORT, POLLFD_SIZE * i + 6);
                }
                return revents;
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
