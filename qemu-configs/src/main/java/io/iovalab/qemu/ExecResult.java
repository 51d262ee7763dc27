package io.iovalab.qemu;

/** What a script run in the guest produced. */
public record ExecResult(int exitCode, String stdout, String stderr, long millis) {
    public ExecResult requireSuccess(String what) throws GuestException {
        if (exitCode != 0) {
            throw new GuestException(what + " exited with " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr);
        }
        return this;
    }
}
