package io.iovalab.recording;

import java.util.List;

/** One record of a session recording; the kinds and their bytes are described in RECORDING.md. */
public sealed interface Entry {

    /** Kind 1: a frame from the client as it arrived, and what its descriptors were. */
    record ClientFrame(byte[] frame, List<FdInfo> fds) implements Entry {
    }

    /** Kind 2: a frame the server sent: a reply, or its own DMA_READ/DMA_WRITE request. */
    record ServerFrame(byte[] frame, boolean withFd) implements Entry {
    }

    /** Kind 3: guest memory the device read, as it read it. */
    record GuestRead(int queue, int commandId, long iova, byte[] data) implements Entry {
    }

    /** Kind 4: one event of the device-side trace (IOMMU model or device), rendered as text. */
    record TraceEntry(int queue, int commandId, String kind, String detail) implements Entry {
    }

    /** Kind 5: the session ended; nothing follows. */
    record End(String reason) implements Entry {
    }

    /**
     * A descriptor that came with a client frame.
     *
     * @param type     {@link #FILE} (memfd or other regular file: guest RAM) or {@link #OTHER} (eventfd, ...)
     * @param fileId   for FILE: the same number for every fd of the same file (st_dev/st_ino) in the session
     * @param fileSize for FILE: its size when the frame arrived
     */
    record FdInfo(int type, int fileId, long fileSize) {
        public static final int FILE = 0;
        public static final int OTHER = 1;
    }
}
