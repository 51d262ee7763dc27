package io.iovalab.os;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** mmap(2) of a shared file range into a segment whose munmap runs when {@code arena} closes. */
public final class Mmap {
    public static final long PAGE_SIZE = 4096;
    private static final long MAP_FAILED = -1L;

    private Mmap() {
    }

    /**
     * Maps {@code [offset, offset+size)} of {@code fd} MAP_SHARED, read-only or read-write.
     * A read-only mapping comes back as a read-only segment, so a stray write throws in Java
     * instead of faulting the whole JVM. The fd may be closed afterwards; the mapping stays
     * until {@code arena} is closed.
     */
    public static MemorySegment map(Fd fd, long offset, long size, boolean writable, Arena arena) throws OsException {
        if (size <= 0 || offset < 0 || offset % PAGE_SIZE != 0) {
            throw new OsException("mmap(offset=0x" + Long.toHexString(offset) + ", size=0x" + Long.toHexString(size)
                    + "): offset must be page-aligned and size positive", Errno.EINVAL);
        }
        int prot = Libc.PROT_READ | (writable ? Libc.PROT_WRITE : 0);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            MemorySegment addr = (MemorySegment) Libc.MMAP.invokeExact(err, MemorySegment.NULL, size, prot,
                    Libc.MAP_SHARED, fd.value(), offset);
            if (addr.address() == MAP_FAILED) {
                throw Libc.fail("mmap(" + (writable ? "PROT_READ|PROT_WRITE" : "PROT_READ") + ", size=0x"
                        + Long.toHexString(size) + ", offset=0x" + Long.toHexString(offset) + ")", err);
            }
            long base = addr.address();
            // the cleanup must not capture the segment itself, only its address
            MemorySegment seg = addr.reinterpret(size, arena, ignored -> unmap(base, size));
            return writable ? seg : seg.asReadOnly();
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
