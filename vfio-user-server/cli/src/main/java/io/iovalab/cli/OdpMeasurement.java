package io.iovalab.cli;

import io.iovalab.iommu.Statistics;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

/**
 * The mlx5 section of the standard run: loads mlx5_ib, arms the ODP probes for mlx5_0's PCI
 * device, runs {@link OdpExerciser} once and takes the device's counters as before/after
 * differences, so driver probe and firmware setup do not leak in.
 */
final class OdpMeasurement {
    private OdpMeasurement() {
    }

    static OdpResult run(GuestSession s, VfioUserServer mlx5) throws IOException {
        // The image may not autoload the IB side; modprobe is idempotent, and uverbs is what pyverbs opens.
        s.run("modprobe mlx5_ib && modprobe ib_uverbs", Duration.ofSeconds(120)).requireSuccess("loading mlx5_ib");
        s.waitFor("test -e /sys/class/infiniband/mlx5_0", Duration.ofSeconds(120), "mlx5_ib registering mlx5_0");
        String setup = "BDF=$(basename $(readlink -f /sys/class/infiniband/mlx5_0/device))\n" + GuestProbes.install(GuestProbes.ODP);
        s.run(setup + GuestProbes.arm(GuestProbes.ODP), Duration.ofSeconds(60)).requireSuccess("arming the ODP probes");
        Files.writeString(s.shared().resolve("odp.py"), OdpExerciser.source(), StandardCharsets.UTF_8);
        Statistics before = mlx5.iovaSpace().statistics();
        Map<String, Object> devBefore = mlx5.device().inspect();
        ExecResult r = s.run(OdpExerciser.runToEnd(OdpExerciser.DEMO_PAGES), Duration.ofSeconds(180));
        Statistics after = mlx5.iovaSpace().statistics();
        Map<String, Object> devAfter = mlx5.device().inspect();
        ExecResult p = s.run(setup + GuestProbes.read(GuestProbes.ODP), Duration.ofSeconds(60)).requireSuccess("reading probes");
        boolean ok = r.stdout().contains("ODPRC 0") && r.stdout().contains("DONE");
        if (!ok) {
            System.err.println("iovalab: the ODP exerciser failed:\n" + r.stdout() + r.stderr());
        }
        return new OdpResult(GuestProbes.parse(p.stdout()), ok, delta(devBefore, devAfter, "umrWqes"),
                delta(devBefore, devAfter, "xltEntriesLoaded"), delta(devBefore, devAfter, "xltEntriesZapped"),
                delta(devBefore, devAfter, "wqeErrors"), delta(devBefore, devAfter, "commandsFailed"),
                after.maps() - before.maps(), after.unmaps() - before.unmaps(), after.faults() - before.faults());
    }

    private static long delta(Map<String, Object> before, Map<String, Object> after, String key) {
        return ((Number) after.getOrDefault(key, 0L)).longValue() - ((Number) before.getOrDefault(key, 0L)).longValue();
    }
}
