package io.iovalab.transport;

import io.iovalab.os.Fd;

import java.nio.ByteBuffer;

/**
 * One message as read from the socket: the 16-byte header, the body and the descriptors that
 * came with it. The receiver owns the descriptors and must close the ones it does not keep.
 */
public record RawFrame(ByteBuffer header, ByteBuffer body, Fd[] fds) {

    public void closeFds() {
        for (Fd f : fds) {
            if (f != null) {
                f.close();
            }
        }
    }
}
