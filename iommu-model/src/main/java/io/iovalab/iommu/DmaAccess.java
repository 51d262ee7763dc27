package io.iovalab.iommu;

/**
 * What a device plugin sees of its IOVA space: the only way a device reaches guest memory.
 *
 * <p>Thread-safe. Each device thread takes its own {@link DmaCommand} handle once and reuses it
 * for every command, so the hot path allocates nothing.
 */
public interface DmaAccess {

    /** A reusable, single-thread handle that tags accesses with a queue and command id. */
    DmaCommand newCommand();

    /** The device name faults and statistics are filed under. */
    String deviceName();
}
