package io.iovalab.os;

import java.io.IOException;

/** A failed system call: {@code recvmsg: EAGAIN (11) Resource temporarily unavailable}. */
public class OsException extends IOException {
    private final int errno;
    private final String call;

    public OsException(String call, int errno) {
        super(call + ": " + Errno.name(errno) + " (" + errno + ") " + Errno.describe(errno));
        this.call = call;
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }

    public String call() {
        return call;
    }
}
