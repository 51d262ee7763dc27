package io.iovalab.qemu;

import java.nio.file.Files;
import java.nio.file.Path;

/** The accelerator: KVM when it can boot a stock kernel, TCG otherwise, or what the user says. */
public enum Accel {
    AUTO, KVM, TCG;

    public Accel resolve() {
        if (this != AUTO) {
            return this;
        }
        Path kvm = Path.of("/dev/kvm");
        // kvm_pvm (a paravirtual KVM some cloud hosts offer) cannot boot a stock kernel
        boolean pvm = Files.exists(Path.of("/sys/module/kvm_pvm"));
        return Files.isReadable(kvm) && Files.isWritable(kvm) && !pvm ? KVM : TCG;
    }

    public String qemuName() {
        return this == KVM ? "kvm" : "tcg";
    }
}
