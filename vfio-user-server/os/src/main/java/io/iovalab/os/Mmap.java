package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** mmap(2) of a shared file range into a segment whose munmap runs when {@code arena} closes. */
public final class Mmap {
    private static final long MAP_FAILED = -1L;

    private Mmap() {
    }

    public static MemorySegment map(Fd fd, long offset, long size, boolean writable, Arena arena) throws OsException {
        if (size <= 0 || (offset & 0xfff) != 0) {
            throw new OsException("mmap(offset=" + offset + ", size=" + size + ")", Errno.EINVAL);
        }
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment addr = (MemorySegment) Libc.MMAP.invokeExact(err, MemorySegment.NULL, size, prot,
                    Libc.MAP_SHARED, fd.value(), offset);
            if (addr.address() == MAP_FAILED) {
                throw Libc.fail("mmap", err);
            }
            long base = addr.address();
            return addr.reinterpret(size, arena, seg -> unmap(base, size));
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    private static void unmap(long address, long size) {
        try (Arena a = Arena.ofConfined()) {
            int ignored = (int) Libc.MUNMAP.invokeExact(Libc.errnoBuffer(a), MemorySegment.ofAddress(address), size);
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
