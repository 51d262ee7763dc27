package io.iovalab.wire;

/** A message that cannot be accepted; {@link #errno()} goes into the error reply. */
public final class WireException extends Exception {
    private final int errno;

    public WireException(int errno, String reason) {
        super(reason, null, false, false);
        this.errno = errno;
    }

    public int errno() {
        return errno;
    }
}
