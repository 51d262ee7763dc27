package io.iovalab.cli;

import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Boots one kernel with the iovalab devices, installs the guest probes and runs the standard
 * workload: every fio phase against the NVMe function, then the ODP exerciser against the mlx5
 * function — each only if that device is attached. demo runs it once, compare once per kernel.
 */
final class StandardRun {
    static final String DEFAULT_DEVICE = "nvme:size=512M";
    static final String DEFAULT_MLX5 = "mlx5";

    private StandardRun() {
    }

    /**
     * {@code dir} gets this kernel's sockets and guest logs; use a separate one per kernel.
     * {@code defaults} are the devices used when the user gave no --device.
     */
    static KernelRun run(MachineOptions machine, KernelChoice kernel, Path dir, List<String> defaults) throws Exception {
        List<String> devices = machine.devices.isEmpty() ? defaults : machine.devices;
        List<PhaseResult> phases = new ArrayList<>();
        Files.createDirectories(dir);
        try (DeviceServers servers = DeviceServers.start(devices, dir, machine.webPort, machine.record)) {
            var g = machine.guest(dir, kernel);
            servers.sockets().forEach(g::vfioUser);
            Optional<VfioUserServer> nvme = servers.first("nvme");
            Optional<VfioUserServer> mlx5 = servers.first("mlx5");
            if (nvme.isEmpty() && mlx5.isEmpty()) {
                throw new IllegalArgumentException("the standard workload needs an nvme or mlx5 device");
            }
            System.err.println("iovalab: booting " + kernel.label() + " (" + machine.topology + ")");
            try (GuestSession s = g.start()) {
                String release = s.kernelRelease();
                System.err.printf("iovalab: %s up in %.1f s%n", release, s.bootMillis() / 1000.0);
                if (nvme.isPresent()) {
                    s.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(120), "nvme driver probe of the iovalab controller");
                    String setup = "BDF=$(basename $(readlink -f /sys/class/nvme/nvme0/device))\n" + GuestProbes.install();
                    s.run(setup, Duration.ofSeconds(60)).requireSuccess("installing the guest probes");
                    for (Workload w : Workload.STANDARD) {
                        System.err.println("iovalab: " + release + ": workload " + w.name());
                        phases.add(PhaseMeasurement.run(s, nvme.get(), w, setup));
                    }
                }
                OdpResult odp = null;
                if (mlx5.isPresent()) {
                    System.err.println("iovalab: " + release + ": mlx5 ODP exerciser");
                    odp = OdpMeasurement.run(s, mlx5.get());
                }
                return new KernelRun(kernel.label(), release, List.copyOf(phases), odp);
            }
        }
    }
}
