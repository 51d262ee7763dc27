package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** poll(2) for readability of a few descriptors, so blocking loops can be woken and stopped. */
public final class Poll {
    private Poll() {
    }

    /**
     * Waits until one of {@code fds} is readable (or hung up / in error).
     *
     * @return index of the first ready fd, or -1 on timeout
     */
    public static int readable(int timeoutMillis, Fd... fds) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment pfds = a.allocate(8L * fds.length, 4);
            for (int i = 0; i < fds.length; i++) {
                pfds.set(ValueLayout.JAVA_INT, 8L * i, fds[i].value());
                pfds.set(ValueLayout.JAVA_SHORT, 8L * i + 4, Libc.POLLIN);
                pfds.set(ValueLayout.JAVA_SHORT, 8L * i + 6, (short) 0);
            }
            while (true) {
                int r = (int) Libc.POLL.invokeExact(err, pfds, (long) fds.length, timeoutMillis);
                if (r < 0) {
                    if (Libc.errno(err) == Libc.EINTR) {
                        continue;
                    }
                    throw Libc.fail("poll", err);
                }
                if (r == 0) {
                    return -1;
                }
                for (int i = 0; i < fds.length; i++) {
                    if (pfds.get(ValueLayout.JAVA_SHORT, 8L * i + 6) != 0) {
                        return i;
                    }
                }
                return -1;
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
