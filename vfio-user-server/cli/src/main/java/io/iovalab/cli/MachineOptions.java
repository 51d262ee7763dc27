package io.iovalab.cli;

import io.iovalab.qemu.Accel;
import io.iovalab.qemu.Guest;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The machine around the kernel: topology, accelerator, size, iovalab devices, where files go. */
final class MachineOptions {
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

    @Option(names = "--web", paramLabel = "PORT",
            description = "Serve the web view and /metrics on http://127.0.0.1:PORT/ (0 = any free port; off unless given).")
    Integer webPort;

    @Option(names = "--record", paramLabel = "FILE",
            description = "Record the guest's vfio-user session with each device into FILE (with several devices: FILE.NAME) "
                    + "for iovalab replay.")
    Path record;

    @Option(names = "--qemu-arg", paramLabel = "ARG", description = "An extra QEMU argument (repeatable).")
    List<String> qemuArgs = new ArrayList<>();

    Guest guest(Path dir, KernelChoice kernel) {
        Guest g = Guest.builder().topology(topology).accel(accel).memoryMiB(memory).cpus(cpus).workDir(dir.resolve("guest"))
                .qemuArgs(qemuArgs.toArray(String[]::new));
        return kernel.applyTo(g);
    }
}
