package io.iovalab.transport;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A frame the transport refused. Its descriptors are already closed. After a
 * {@link #recoverable()} one the whole message was consumed and the stream is still in sync,
 * so the connection can go on (after an error reply); after any other the position of the next
 * message is unknown and the connection must be closed.
 */
public abstract sealed class FrameException extends IOException permits FrameSizeException, TooManyFdsException {
    private final ByteBuffer header;

    FrameException(String message, ByteBuffer header) {
        super(message);
        this.header = header;
    }

    public abstract boolean recoverable();

    /** The offending message's 16-byte header (little-endian, a private copy), for the error reply. */
    public ByteBuffer header() {
        return header.duplicate().order(header.order());
    }
}
