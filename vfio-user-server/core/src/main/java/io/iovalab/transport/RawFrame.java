package io.iovalab.transport;

import io.iovalab.os.Fd;

import java.nio.ByteBuffer;

/**
 * One vfio-user message as read from the socket, not decoded: the 16-byte header, the body
 * (both little-endian buffers positioned at 0) and the descriptors that came with the
 * message's first bytes. The receiver owns the descriptors and must close the ones it does
 * not keep ({@link #closeFds()} closes all that are still open).
 */
public record RawFrame(ByteBuffer header, ByteBuffer body, Fd[] fds) {
    /** vfio-user header: u16 id, u16 command, u32 size, u32 flags, u32 error. */
    public static final int HEADER_SIZE = 16;
    /** Offset of the u32 size of the whole message, header included. */
    public static final int SIZE_OFFSET = 4;

    /** The message size: header plus body. */
    public int size() {
        return HEADER_SIZE + body.capacity();
    }

    public void closeFds() {
        Fd.closeAll(fds);
    }
}
