package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.os.Mmap;
import io.iovalab.spi.SharedMemory;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** A memfd mapped into the server; its fd goes to the client with a region's sparse-mmap areas. */
final class MemfdSharedMemory implements SharedMemory {
    private final Fd fd;
    private final Arena arena;
    private final MemorySegment segment;

    private MemfdSharedMemory(Fd fd, Arena arena, MemorySegment segment) {
        this.fd = fd;
        this.arena = arena;
        this.segment = segment;
    }

    static MemfdSharedMemory create(String name, long size) throws IOException {
        Fd fd = Memfd.create(name, size);
        Arena arena = Arena.ofShared();
        try {
            // the client gets this fd: it must not be able to shrink the file under our mapping
            if (!Memfd.sealShrink(fd)) {
                throw new IOException("cannot seal " + name + " against shrinking");
            }
            return new MemfdSharedMemory(fd, arena, Mmap.map(fd, 0, size, true, arena));
        } catch (IOException | RuntimeException e) {
            arena.close();
            fd.close();
            throw e;
        }
    }

    @Override
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public int fd() {
        return fd.value();
    }

    Fd ownedFd() {
        return fd;
    }

    @Override
    public void close() {
        arena.close();
        fd.close();
    }
}
