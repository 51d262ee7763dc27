package io.iovalab.pci;

import io.iovalab.spi.SharedMemory;

import java.util.List;

/**
 * One Base Address Register: its size (a power of two, at least 16 bytes for memory), its type,
 * the handler for trapped accesses, and optionally memfd-backed areas the client may mmap.
 * Accesses to mmapped areas that still arrive as messages are served from the shared memory.
 */
public record Bar(long size, Type type, boolean prefetchable, RegionHandler handler,
                  SharedMemory shared, List<MmapArea> mmapAreas) {

    public enum Type { MEMORY32, MEMORY64, IO }

    public Bar {
        if (size < (type == Type.IO ? 4 : 16) || Long.bitCount(size) != 1) {
            throw new IllegalArgumentException("BAR size must be a power of two >= "
                    + (type == Type.IO ? 4 : 16) + ", got " + size);
        }
        if (type == Type.MEMORY32 && size > (1L << 31)) {
            throw new IllegalArgumentException("32-bit BAR larger than 2 GiB: " + size);
        }
        mmapAreas = List.copyOf(mmapAreas);
        if (!mmapAreas.isEmpty() && shared == null) {
            throw new IllegalArgumentException("mmap areas need shared memory behind them");
        }
        for (MmapArea a : mmapAreas) {
            if (a.offset() + a.size() > size) {
                throw new IllegalArgumentException("mmap area beyond the BAR: " + a);
            }
            if (shared != null && a.offset() + a.size() > shared.segment().byteSize()) {
                throw new IllegalArgumentException("mmap area beyond its shared memory: " + a);
            }
        }
    }

    public static Bar memory32(long size, RegionHandler handler) {
        return new Bar(size, Type.MEMORY32, false, handler, null, List.of());
    }

    public static Bar memory64(long size, boolean prefetchable, RegionHandler handler) {
        return new Bar(size, Type.MEMORY64, prefetchable, handler, null, List.of());
    }

    public static Bar io(long size, RegionHandler handler) {
        return new Bar(size, Type.IO, false, handler, null, List.of());
    }

    /** The same BAR with {@code areas} of {@code shared} offered to the client for mmap. */
    public Bar withMmap(SharedMemory sharedMemory, List<MmapArea> areas) {
        return new Bar(size, type, prefetchable, handler, sharedMemory, areas);
    }
}
