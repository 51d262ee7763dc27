package io.iovalab.transport;

import java.nio.ByteBuffer;

/**
 * A header whose size field is below 16 or above the connection's maximum. The body was not
 * read (it may be gigabytes, or the header may be garbage), so the stream is lost.
 */
public final class FrameSizeException extends FrameException {
    private final long size;
    private final long limit;

    FrameSizeException(long size, long limit, ByteBuffer header) {
        super("message size " + size + " outside [" + RawFrame.HEADER_SIZE + ", " + limit + "]", header);
        this.size = size;
        this.limit = limit;
    }

    /** The size the header claimed. */
    public long size() {
        return size;
    }

    public long limit() {
        return limit;
    }

    @Override
    public boolean recoverable() {
        return false;
    }
}
