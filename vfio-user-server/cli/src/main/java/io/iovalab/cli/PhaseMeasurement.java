package io.iovalab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.iommu.Statistics;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;

/**
 * Runs one workload phase and takes both sides' figures for exactly that phase: the probes are
 * re-armed before it and the device counters are read as before/after differences, so the
 * guest's boot and earlier phases do not leak in.
 */
final class PhaseMeasurement {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PhaseMeasurement() {
    }

    /** {@code setup} is the shell prefix that defines $T and $BDF for the NVMe function. */
    static PhaseResult run(GuestSession s, VfioUserServer nvme, Workload w, String setup) throws IOException {
        s.run(setup + GuestProbes.arm(), Duration.ofSeconds(60)).requireSuccess("arming probes");
        Statistics before = nvme.iovaSpace().statistics();
        Map<String, Object> devBefore = nvme.device().inspect();
        ExecResult r = s.run(w.fio("/dev/nvme0n1"), Duration.ofSeconds(w.seconds() + 120)).requireSuccess("fio " + w.name());
        Statistics after = nvme.iovaSpace().statistics();
        Map<String, Object> devAfter = nvme.device().inspect();
        ExecResult p = s.run(setup + GuestProbes.read(), Duration.ofSeconds(60)).requireSuccess("reading probes");
        JsonNode job = JSON.readTree(r.stdout().substring(r.stdout().indexOf('{'))).path("jobs").path(0);
        JsonNode read = job.path("read");
        JsonNode pct = read.path("clat_ns").path("percentile");
        return new PhaseResult(w.name(), GuestProbes.parse(p.stdout()), read.path("total_ios").asLong(),
                read.path("iops").asDouble(), read.path("bw").asDouble(), pct.path("50.000000").asDouble() / 1000,
                pct.path("99.000000").asDouble() / 1000, job.path("error").asLong(),
                after.maps() - before.maps(), after.unmaps() - before.unmaps(), after.commands() - before.commands(),
                minus(after.rangesPerCommand(), before.rangesPerCommand()),
                after.multiPageCommands() - before.multiPageCommands(),
                after.contiguousMultiPageCommands() - before.contiguousMultiPageCommands(), after.faults() - before.faults(),
                after.bytesRead() + after.bytesWritten() - before.bytesRead() - before.bytesWritten(),
                delta(devBefore, devAfter, "prpCommands"), delta(devBefore, devAfter, "sglCommands"));
    }

    private static long[] minus(long[] after, long[] before) {
        long[] d = new long[after.length];
        for (int i = 0; i < d.length; i++) {
            d[i] = after[i] - (i < before.length ? before[i] : 0);
        }
        return d;
    }

    private static long delta(Map<String, Object> before, Map<String, Object> after, String key) {
        return ((Number) after.getOrDefault(key, 0L)).longValue() - ((Number) before.getOrDefault(key, 0L)).longValue();
    }
}
