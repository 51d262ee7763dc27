package io.iovalab.transport;

import java.io.IOException;

/**
 * A frame the transport could not accept. {@link #recoverable()} frames were consumed whole, so
 * the stream is still in sync and the connection can go on after an error reply.
 */
public final class FrameException extends IOException {
    private final boolean recoverable;
    private final java.nio.ByteBuffer header;

    public FrameException(String message, boolean recoverable, java.nio.ByteBuffer header) {
        super(message);
        this.recoverable = recoverable;
        this.header = header;
    }

    public boolean recoverable() {
        return recoverable;
    }

    /** The offending frame's header, for the error reply. */
    public java.nio.ByteBuffer header() {
        return header;
    }
}
