package io.iovalab.iommu;

import java.lang.foreign.MemorySegment;

/**
 * Guest memory behind IOVA maps: usually one mmapped guest-RAM file shared by many maps. The
 * model retains it once per IOVA map that points into it and releases it on unmap; the owner
 * unmaps the memory on the last release.
 */
public interface Backing {
    /** The whole mapping; map offsets index into it. */
    MemorySegment segment();

    void retain();

    void release();

    /** For dumps and faults, e.g. {@code file(dev=..,ino=..)}. */
    String describe();
}
