package io.iovalab.spi;

import java.lang.foreign.MemorySegment;

/**
 * A memfd-backed block the server can hand to the client with a region's sparse-mmap areas.
 * The device reads and writes it through {@link #segment()}.
 */
public interface SharedMemory extends AutoCloseable {

    MemorySegment segment();

    /** The file descriptor number, for the server only; devices have no use for it. */
    int fd();

    @Override
    void close();
}
