package io.iovalab.cli;

import io.iovalab.qemu.Accel;
import io.iovalab.qemu.Guest;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Options shared by the commands that boot a guest. */
final class GuestOptions {
    @Option(names = "--kernel", paramLabel = "BZIMAGE|TREE",
            description = "Your kernel: a bzImage, or a kernel build tree (its bzImage and modules are used).")
    Path kernel;

    @Option(names = "--modules", paramLabel = "DIR",
            description = "Modules for --kernel: DIR/lib/modules/VERSION, as from make modules_install INSTALL_MOD_PATH=DIR.")
    Path modules;

    @Option(names = "--image", paramLabel = "NAME", defaultValue = "default",
            description = "Built-in guest image: default (Debian 7.3, two-step DMA API) or baseline (6.12, without it).")
    String image;

    @Option(names = "--topology", paramLabel = "NAME|FILE", defaultValue = "intel-iommu",
            description = "intel-iommu (default), virtio-iommu, none, or a topology JSON file.")
    String topology;

    @Option(names = "--accel", paramLabel = "auto|kvm|tcg", defaultValue = "auto",
            description = "auto uses KVM when it can boot a stock kernel, else TCG.")
    Accel accel;

    @Option(names = "--memory", paramLabel = "MiB", defaultValue = "2048", description = "Guest RAM (default ${DEFAULT-VALUE}).")
    int memory;

    @Option(names = "--cpus", paramLabel = "N", defaultValue = "2", description = "Guest CPUs (default ${DEFAULT-VALUE}).")
    int cpus;

    @Option(names = "--device", paramLabel = "TYPE[:k=v,...]",
            description = "An iovalab device for the guest (repeatable); each gets its own server and socket.")
    List<String> devices = new ArrayList<>();

    @Option(names = "--workdir", paramLabel = "DIR", description = "Where sockets and logs go (default: a new temp dir).")
    Path workDir;

    @Option(names = "--qemu-arg", paramLabel = "ARG", description = "An extra QEMU argument (repeatable).")
    List<String> qemuArgs = new ArrayList<>();

    Guest guest(Path dir) {
        Guest g = Guest.builder().topology(topology).accel(accel).memoryMiB(memory).cpus(cpus).workDir(dir.resolve("guest"))
                .qemuArgs(qemuArgs.toArray(String[]::new));
        return kernel != null ? g.userKernel(kernel, modules) : g.image(image);
    }
}
