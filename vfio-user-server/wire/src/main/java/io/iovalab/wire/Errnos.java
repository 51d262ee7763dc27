package io.iovalab.wire;

/** The errno values the codec puts in error replies (Linux numbering). */
final class Errnos {
    static final int E2BIG = 7;
    static final int EINVAL = 22;
    static final int ENOSYS = 38;

    private Errnos() {
    }
}
