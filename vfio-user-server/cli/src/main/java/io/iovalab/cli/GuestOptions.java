package io.iovalab.cli;

import io.iovalab.qemu.Guest;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** Options shared by the commands that boot one guest: the machine and one kernel. */
final class GuestOptions {
    @Mixin
    MachineOptions machine;

    @Option(names = "--kernel", paramLabel = "BZIMAGE|TREE",
            description = "Your kernel: a bzImage, or a kernel build tree (its bzImage and modules are used).")
    Path kernel;

    @Option(names = "--modules", paramLabel = "DIR",
            description = "Modules for --kernel: DIR/lib/modules/VERSION, as from make modules_install INSTALL_MOD_PATH=DIR.")
    Path modules;

    @Option(names = "--image", paramLabel = "NAME", defaultValue = "default",
            description = "Built-in guest image: default (Debian 7.3, two-step DMA API) or baseline (6.12, without it).")
    String image;

    KernelChoice kernelChoice() {
        return kernel != null ? KernelChoice.user(kernel, modules) : KernelChoice.image(image);
    }

    Guest guest(Path dir) {
        return machine.guest(dir, kernelChoice());
    }
}
