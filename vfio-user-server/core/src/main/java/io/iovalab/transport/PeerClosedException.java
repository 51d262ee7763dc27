package io.iovalab.transport;

import java.io.EOFException;

/**
 * The connection ended: the peer closed (or reset) it, or it was closed locally. At a message
 * boundary this is the normal end of a session; {@link #midFrame()} means the peer went away
 * in the middle of a message, which was discarded.
 */
public final class PeerClosedException extends EOFException {
    private final boolean midFrame;

    PeerClosedException(String message, boolean midFrame) {
        super(message);
        this.midFrame = midFrame;
    }

    public boolean midFrame() {
        return midFrame;
    }
}
