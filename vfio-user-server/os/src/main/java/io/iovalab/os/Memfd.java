package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** memfd_create(2) + ftruncate(2): anonymous shared memory that can be passed as an fd. */
public final class Memfd {
    private Memfd() {
    }

    public static Fd create(String name, long size) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int fd = (int) Libc.MEMFD_CREATE.invokeExact(err, a.allocateFrom(name), Libc.MFD_CLOEXEC);
            if (fd < 0) {
                throw Libc.fail("memfd_create", err);
            }
            Fd owned = new Fd(fd);
            try {
                truncate(owned, size);
            } catch (OsException e) {
                owned.close();
                throw e;
            }
            return owned;
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    public static void truncate(Fd fd, long size) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int r = (int) Libc.FTRUNCATE.invokeExact(err, fd.value(), size);
            if (r < 0) {
                throw Libc.fail("ftruncate", err);
            }
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
