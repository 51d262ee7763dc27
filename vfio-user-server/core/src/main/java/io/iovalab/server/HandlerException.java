package io.iovalab.server;

/** A request the device cannot honour; {@link #errno()} goes into the error reply. */
final class HandlerException extends Exception {
    private final int errno;

    HandlerException(int errno, String message) {
        super(message, null, false, false);
        this.errno = errno;
    }

    int errno() {
        return errno;
    }
}
