package io.iovalab.qemu;

import java.io.IOException;

/** A provisioning step that failed: which one, why, and the tail of its output. */
public final class ProvisionException extends IOException {
    public ProvisionException(String step, String why) {
        super("provisioning failed at step '" + step + "': " + why);
    }
}
