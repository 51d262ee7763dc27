package io.iovalab.iommu;

import java.lang.foreign.MemorySegment;

/**
 * Guest memory behind IOVA maps: usually one mmapped guest-RAM file shared by many maps. The
 * model retains it once per IOVA map that points into it and releases it on unmap; the owner
 * unmaps the memory on the last release.
 *
 * <p>The memory must be freed only by closing the shared arena it was allocated or mapped in (or
 * never): reads may still be under way when the last release comes, and it is the arena's close
 * handshake that turns them into faults instead of touching unmapped memory.
 */
public interface Backing {
    /** The whole mapping; map offsets index into it. */
    MemorySegment segment();

    void retain();

    void release();

    /** For dumps and faults, e.g. {@code file(dev=..,ino=..)}. */
    String describe();
}
