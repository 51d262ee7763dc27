package io.iovalab.qemu;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Everything a guest boot needs.
 *
 * @param vfioUserSockets one {@code vfio-user-pci} per socket, each behind its own root port
 * @param extraArgs       more QEMU arguments (e.g. QEMU's own nvme for harness tests)
 * @param kernelArgs      appended to the kernel command line
 * @param interactive     serial console on this terminal instead of the job runner
 */
public record GuestSpec(QemuBinary qemu, GuestImage image, Topology topology, Accel accel, int memoryMiB, int cpus,
                        List<Path> vfioUserSockets, List<String> extraArgs, String kernelArgs, Path workDir,
                        Duration bootTimeout, boolean interactive) {
    public GuestSpec {
        vfioUserSockets = List.copyOf(vfioUserSockets);
        extraArgs = List.copyOf(extraArgs);
    }
}
