package io.iovalab.cli;

import io.iovalab.iommu.Statistics;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

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
        ExecResult started = s.run(OdpExerciser.startToPrefetched(OdpExerciser.DEMO_PAGES), Duration.ofSeconds(120));
        // After the prefetch every page is in the MTT; later the program drops half and deregisters,
        // so this is the one moment the whole MR's IOVA layout is visible.
        Mtt mtt = Mtt.of(mlx5.device().inspect(), started.stdout());
        ExecResult r = s.run(OdpExerciser.finish(), Duration.ofSeconds(180));
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
                after.maps() - before.maps(), after.unmaps() - before.unmaps(), after.faults() - before.faults(),
                mtt.entries(), mtt.iovaRuns());
    }

    /** The ODP MR's MTT as the device holds it: entries loaded and distinct contiguous IOVA ranges among them (-1: MR not found). */
    record Mtt(long entries, long iovaRuns) {
        private static final Pattern REG = Pattern.compile("REG addr=(0x[0-9a-f]+)");

        /** The device's mkey whose range starts at the address the program printed. */
        @SuppressWarnings("unchecked")
        static Mtt of(Map<String, Object> device, String programLog) {
            Matcher m = REG.matcher(programLog);
            if (!m.find()) {
                return new Mtt(-1, -1);
            }
            long addr = Long.decode(m.group(1));
            for (Map<String, Object> k : (List<Map<String, Object>>) device.getOrDefault("mttKeys", List.of())) {
                if (((Number) k.get("start")).longValue() == addr && !(Boolean) k.get("free")) {
                    return new Mtt(((Number) k.get("mttEntries")).longValue(), ((Number) k.get("mttIovaRuns")).longValue());
                }
            }
            return new Mtt(-1, -1);
        }
    }

    private static long delta(Map<String, Object> before, Map<String, Object> after, String key) {
        return ((Number) after.getOrDefault(key, 0L)).longValue() - ((Number) before.getOrDefault(key, 0L)).longValue();
    }
}
