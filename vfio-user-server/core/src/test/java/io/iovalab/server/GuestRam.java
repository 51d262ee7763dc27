package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.os.Mmap;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** "Guest memory" for tests: a memfd the test maps itself, as QEMU maps its RAM backend. */
final class GuestRam implements AutoCloseable {
    final Fd fd;
    final Arena arena = Arena.ofShared();
    final MemorySegment mem;

    GuestRam(long size) throws Exception {
        fd = Memfd.create("guest-ram", size);
        mem = Mmap.map(fd, 0, size, true, arena);
    }

    @Override
    public void close() {
        arena.close();
        fd.close();
    }
}
