package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * memfd_create(2) + ftruncate(2): anonymous shared memory that can be passed as an fd. Created
 * with sealing allowed, so whoever maps it can forbid shrinking ({@link #sealShrink}).
 */
public final class Memfd {
    /** F_SEAL_SHRINK: the file can no longer get smaller. */
    public static final int F_SEAL_SHRINK = 0x2;

    private Memfd() {
    }

    /**
     * Makes sure the file behind {@code fd} can never shrink: true if it is sealed against it
     * already (QEMU's memory-backend-memfd seals by default) or this call sealed it. False for a
     * file that cannot be sealed (not a memfd, created without sealing, F_SEAL_SEAL set, or a
     * read-only descriptor). A mapping of a file that shrinks under it faults with SIGBUS, which
     * compiled Java code does not survive: only a file that cannot shrink is safe to map.
     */
    public static boolean sealShrink(Fd fd) {
        try {
            if ((fd.fcntl("fcntl(F_GET_SEALS)", Libc.F_GET_SEALS, 0) & F_SEAL_SHRINK) != 0) {
                return true;
            }
            fd.fcntl("fcntl(F_ADD_SEALS)", Libc.F_ADD_SEALS, F_SEAL_SHRINK);
            return true;
        } catch (OsException e) {
            return false;
        }
    }

    public static Fd create(String name, long size) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int fd = (int) Libc.MEMFD_CREATE.invokeExact(err, a.allocateFrom(name), Libc.MFD_CLOEXEC | Libc.MFD_ALLOW_SEALING);
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
