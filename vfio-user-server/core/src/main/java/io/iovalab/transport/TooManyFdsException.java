package io.iovalab.transport;

import java.nio.ByteBuffer;

/**
 * A message that came with more descriptors than the connection accepts (or with descriptors
 * after its first bytes). All of them were closed, the message was read to its end, and the
 * stream is in sync: the caller can send an error reply and go on.
 */
public final class TooManyFdsException extends FrameException {

    TooManyFdsException(String message, ByteBuffer header) {
        super(message, header);
    }

    @Override
    public boolean recoverable() {
        return true;
    }
}
