package io.iovalab.wire;

import java.util.List;

/**
 * Every vfio-user message body as an immutable record. Requests flow client → server except
 * {@link DmaRead}/{@link DmaWrite}; each request has its reply record. File descriptors are not
 * part of the records: they travel beside the frame.
 */
public sealed interface Message {

    /** A message that asks for an answer. */
    sealed interface Request extends Message {
    }

    /** A message answering a request. */
    sealed interface Reply extends Message {
    }

    // ---- VFIO_USER_VERSION ----
    record Version(int major, int minor, Capabilities capabilities) implements Request, Reply {
    }

    // ---- VFIO_USER_DMA_MAP ----
    int VFIO_USER_F_DMA_REGION_READ = 1;
    int VFIO_USER_F_DMA_REGION_WRITE = 2;

    record DmaMap(int argsz, int flags, long offset, long address, long size) implements Request {
        public boolean readable() {
            return (flags & VFIO_USER_F_DMA_REGION_READ) != 0;
        }

        public boolean writable() {
            return (flags & VFIO_USER_F_DMA_REGION_WRITE) != 0;
        }
    }

    // ---- VFIO_USER_DMA_UNMAP ----
    int VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1;
    int VFIO_DMA_UNMAP_FLAG_ALL = 2;

    record DmaUnmap(int argsz, int flags, long address, long size) implements Request, Reply {
        public boolean all() {
            return (flags & VFIO_DMA_UNMAP_FLAG_ALL) != 0;
        }
    }

    // ---- VFIO_USER_DEVICE_GET_INFO ----
    int VFIO_DEVICE_FLAGS_RESET = 1;
    int VFIO_DEVICE_FLAGS_PCI = 2;

    record DeviceGetInfo(int argsz) implements Request {
    }

    record DeviceInfo(int argsz, int flags, int numRegions, int numIrqs) implements Reply {
    }

    // ---- VFIO_USER_DEVICE_GET_REGION_INFO ----
    int VFIO_REGION_INFO_FLAG_READ = 1;
    int VFIO_REGION_INFO_FLAG_WRITE = 2;
    int VFIO_REGION_INFO_FLAG_MMAP = 4;
    int VFIO_REGION_INFO_FLAG_CAPS = 8;
    int VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
    int VFIO_PCI_BAR0_REGION_INDEX = 0;
    int VFIO_PCI_ROM_REGION_INDEX = 6;
    int VFIO_PCI_CONFIG_REGION_INDEX = 7;
    int VFIO_PCI_VGA_REGION_INDEX = 8;
    int VFIO_PCI_NUM_REGIONS = 9;

    record DeviceGetRegionInfo(int argsz, int index) implements Request {
    }

    /** One area of a VFIO_REGION_INFO_CAP_SPARSE_MMAP capability, region-relative. */
    record SparseArea(long offset, long size) {
    }

    /**
     * A region's info. {@code argsz} is what the full answer needs; the encoder includes the
     * sparse-mmap capability (and the caller sends the fd) only when the client's buffer holds it.
     */
    record RegionInfo(int argsz, int flags, int index, int capOffset, long size, long offset,
                      List<SparseArea> sparseAreas) implements Reply {
        public RegionInfo {
            sparseAreas = List.copyOf(sparseAreas);
        }
    }

    // ---- VFIO_USER_DEVICE_GET_REGION_IO_FDS ----
    record DeviceGetRegionIoFds(int argsz, int flags, int index, int count) implements Request, Reply {
    }

    // ---- VFIO_USER_DEVICE_GET_IRQ_INFO ----
    int VFIO_IRQ_INFO_EVENTFD = 1;
    int VFIO_IRQ_INFO_MASKABLE = 2;
    int VFIO_IRQ_INFO_AUTOMASKED = 4;
    int VFIO_IRQ_INFO_NORESIZE = 8;

    record DeviceGetIrqInfo(int argsz, int index) implements Request {
    }

    record IrqInfo(int argsz, int flags, int index, int count) implements Reply {
    }

    // ---- VFIO_USER_DEVICE_SET_IRQS ----
    int VFIO_IRQ_SET_DATA_NONE = 1;
    int VFIO_IRQ_SET_DATA_BOOL = 2;
    int VFIO_IRQ_SET_DATA_EVENTFD = 4;
    int VFIO_IRQ_SET_ACTION_MASK = 8;
    int VFIO_IRQ_SET_ACTION_UNMASK = 0x10;
    int VFIO_IRQ_SET_ACTION_TRIGGER = 0x20;
    int VFIO_IRQ_SET_DATA_TYPE_MASK = 7;
    int VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;

    /** {@code bools} holds the DATA_BOOL bytes; empty for the other data types. */
    record DeviceSetIrqs(int argsz, int flags, int index, int start, int count, byte[] bools) implements Request {
        public int dataType() {
            return flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
        }

        public int action() {
            return flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
        }
    }

    // ---- VFIO_USER_REGION_READ / WRITE ----
    record RegionRead(long offset, int region, int count) implements Request {
    }

    record RegionReadReply(long offset, int region, int count, byte[] data) implements Reply {
    }

    record RegionWrite(long offset, int region, int count, byte[] data) implements Request {
    }

    record RegionWriteReply(long offset, int region, int count) implements Reply {
    }

    // ---- VFIO_USER_REGION_WRITE_MULTI ----
    int VFIO_USER_MULTI_MAX = 200;
    int VFIO_USER_MULTI_DATA = 8;

    record Write(long offset, int region, int count, long data) {
    }

    record RegionWriteMulti(List<Write> writes) implements Request {
        public RegionWriteMulti {
            writes = List.copyOf(writes);
        }
    }

    // ---- VFIO_USER_DEVICE_RESET ----
    record DeviceReset() implements Request {
    }

    // ---- VFIO_USER_DEVICE_FEATURE ----
    record DeviceFeature(int argsz, int flags, byte[] data) implements Request, Reply {
    }

    // ---- VFIO_USER_MIG_DATA_READ / WRITE ----
    record MigDataRead(int argsz, int size) implements Request {
    }

    record MigDataWrite(int argsz, int size, byte[] data) implements Request {
    }

    /** A command we know but do not serve (VFIO_USER_DIRTY_PAGES): answered with an error. */
    record Unsupported(Command command) implements Request {
    }

    // ---- server → client: VFIO_USER_DMA_READ / DMA_WRITE (QEMU 11.1 layout: u64 count, data at 32) ----
    record DmaRead(long address, long count) implements Request {
    }

    record DmaReadReply(long address, long count, byte[] data) implements Reply {
    }

    record DmaWrite(long address, long count, byte[] data) implements Request {
    }

    record DmaWriteReply(long address, long count) implements Reply {
    }

    /** Header-only reply (DMA_MAP, SET_IRQS, DEVICE_RESET, ...). */
    record Empty() implements Reply {
    }
}
