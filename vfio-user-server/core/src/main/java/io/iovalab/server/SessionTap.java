package io.iovalab.server;

import io.iovalab.os.Fd;

import java.nio.ByteBuffer;

/**
 * The one place where a session's traffic can be observed: every frame in and out, with its
 * descriptors, in wire order per direction. Session recording uses it. Called on the thread that
 * moves the frame (the message thread, or a device thread for DMA_READ/WRITE requests); buffers
 * are read-only views the tap must not keep.
 */
public interface SessionTap {
    SessionTap NONE = new SessionTap() {
    };

    /** A frame from the client (request, or reply to our DMA request), before it is served. */
    default void received(ByteBuffer header, ByteBuffer body, Fd[] fds) {
    }

    /** A frame we sent: a reply (maybe with an fd) or our own DMA_READ/DMA_WRITE request. */
    default void sent(ByteBuffer frame, Fd fdOrNull) {
    }

    /** The client is gone; nothing more comes from this session. */
    default void closed() {
    }
}
