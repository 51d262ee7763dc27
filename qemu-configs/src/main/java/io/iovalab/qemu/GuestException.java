package io.iovalab.qemu;

import java.io.IOException;

/** A guest that did not boot, a script that hung or failed: the message names which. */
public final class GuestException extends IOException {
    public GuestException(String message) {
        super(message);
    }
}
