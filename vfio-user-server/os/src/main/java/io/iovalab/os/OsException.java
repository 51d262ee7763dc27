package io.iovalab.os;

import java.io.IOException;

/** A failed system call, reported as {@code recvmsg: EAGAIN (11) resource temporarily unavailable}. */
public class OsException extends IOException {
    private final int errno;
    private final String call;

    public OsException(String call, int errno) {
        super(message(call, errno));
        this.call = call;
        this.errno = errno;
    }

    private static String message(String call, int errno) {
        String text = Errno.describe(errno);
        return call + ": " + Errno.name(errno) + " (" + errno + ")" + (text.isEmpty() ? "" : " " + text);
    }

    public int errno() {
        return errno;
    }

    /** The system call (with its object, e.g. {@code connect(/run/x.sock)}) that failed. */
    public String call() {
        return call;
    }
}
