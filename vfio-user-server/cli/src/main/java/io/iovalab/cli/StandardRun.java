package io.iovalab.cli;

import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Boots one kernel with the iovalab devices, installs the guest probes and runs every phase of
 * the standard workload against the NVMe function. demo runs it once, compare once per kernel.
 */
final class StandardRun {
    static final String DEFAULT_DEVICE = "nvme:size=512M";

    private StandardRun() {
    }

    /** {@code dir} gets this kernel's sockets and guest logs; use a separate one per kernel. */
    static KernelRun run(MachineOptions machine, KernelChoice kernel, Path dir) throws Exception {
        List<String> devices = machine.devices.isEmpty() ? List.of(DEFAULT_DEVICE) : machine.devices;
        List<PhaseResult> phases = new ArrayList<>();
        Files.createDirectories(dir);
        try (DeviceServers servers = DeviceServers.start(devices, dir, machine.record)) {
            var g = machine.guest(dir, kernel);
            servers.sockets().forEach(g::vfioUser);
            VfioUserServer nvme = servers.servers.stream().filter(s -> s.options().device().type().equals("nvme")).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the standard workload needs an nvme device"));
            System.err.println("iovalab: booting " + kernel.label() + " (" + machine.topology + ")");
            try (GuestSession s = g.start()) {
                String release = s.kernelRelease();
                System.err.printf("iovalab: %s up in %.1f s%n", release, s.bootMillis() / 1000.0);
                s.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(120), "nvme driver probe of the iovalab controller");
                String setup = "BDF=$(basename $(readlink -f /sys/class/nvme/nvme0/device))\n" + GuestProbes.install();
                s.run(setup, Duration.ofSeconds(60)).requireSuccess("installing the guest probes");
                for (Workload w : Workload.STANDARD) {
                    System.err.println("iovalab: " + release + ": workload " + w.name());
                    phases.add(PhaseMeasurement.run(s, nvme, w, setup));
                }
                return new KernelRun(kernel.label(), release, List.copyOf(phases));
            }
        }
    }
}
