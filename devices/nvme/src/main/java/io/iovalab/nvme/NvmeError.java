package io.iovalab.nvme;

/** A command that completes with a status other than success. */
final class NvmeError extends Exception {
    final int status;

    NvmeError(int status, String why) {
        super(why, null, false, false);
        this.status = status;
    }
}
