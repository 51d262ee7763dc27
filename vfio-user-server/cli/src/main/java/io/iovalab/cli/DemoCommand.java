package io.iovalab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.iommu.Statistics;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code iovalab demo}: the main job. Boots the kernel behind a vIOMMU with iovalab's NVMe
 * controller, runs 4 KiB and 64 KiB O_DIRECT reads, and answers "did the kernel take the
 * two-step path, and what did the device see?" from both sides.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Provision what is missing, boot the default 7.3 guest behind intel-iommu with iovalab's NVMe",
                "controller, run the standard workload and print the verdict. Exit 0 only when it is clean."})
final class DemoCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Mixin
    GuestOptions guest;

    @Option(names = "--json", description = "Print the verdict as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Logging.configure(false);
        System.setProperty("org.slf4j.simpleLogger.log.io.iovalab", "warn");
        if (guest.devices.isEmpty()) {
            guest.devices.add("nvme:size=512M");
        }
        Path dir = guest.workDir != null ? guest.workDir : Files.createTempDirectory("iovalab-demo");
        long t0 = System.currentTimeMillis();
        List<PhaseResult> phases = new ArrayList<>();
        String kernel;
        try (DeviceServers servers = DeviceServers.start(guest.devices, dir)) {
            var g = guest.guest(dir);
            servers.sockets().forEach(g::vfioUser);
            VfioUserServer nvme = servers.servers.stream().filter(s -> s.options().device().type().equals("nvme")).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("the demo workload needs an nvme device"));
            System.err.println("iovalab: booting the guest (" + guest.topology + ")");
            try (GuestSession s = g.start()) {
                kernel = s.kernelRelease();
                System.err.printf("iovalab: %s up in %.1f s%n", kernel, s.bootMillis() / 1000.0);
                s.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(120), "nvme driver probe of the iovalab controller");
                String setup = "BDF=$(basename $(readlink -f /sys/class/nvme/nvme0/device))\n" + GuestProbes.install();
                s.run(setup, Duration.ofSeconds(60)).requireSuccess("installing the guest probes");
                for (Workload w : Workload.STANDARD) {
                    System.err.println("iovalab: workload " + w.name());
                    phases.add(phase(s, nvme, w, setup));
                }
            }
        }
        boolean clean = print(kernel, phases, System.currentTimeMillis() - t0);
        return clean ? 0 : 1;
    }

    private PhaseResult phase(GuestSession s, VfioUserServer nvme, Workload w, String setup) throws Exception {
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
                after.multiPageCommands() - before.multiPageCommands(),
                after.contiguousMultiPageCommands() - before.contiguousMultiPageCommands(), after.faults() - before.faults(),
                after.bytesRead() + after.bytesWritten() - before.bytesRead() - before.bytesWritten(),
                delta(devBefore, devAfter, "prpCommands"), delta(devBefore, devAfter, "sglCommands"));
    }

    private static long delta(Map<String, Object> before, Map<String, Object> after, String key) {
        return ((Number) after.getOrDefault(key, 0L)).longValue() - ((Number) before.getOrDefault(key, 0L)).longValue();
    }

    private boolean print(String kernel, List<PhaseResult> phases, long millis) throws Exception {
        PhaseResult small = phases.get(0);
        PhaseResult large = phases.get(1);
        long faults = phases.stream().mapToLong(PhaseResult::faults).sum();
        long errors = phases.stream().mapToLong(PhaseResult::fioErrors).sum();
        boolean twoStep = large.probe("dma_iova_link") > 0;
        boolean clean = faults == 0 && errors == 0;
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kernel", kernel);
            m.put("phases", phases);
            m.put("twoStepPath", twoStep);
            m.put("clean", clean);
            System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(m));
            return clean && twoStep;
        }
        System.out.printf("%niovalab verdict — kernel %s, topology %s, nvme behind the vIOMMU (%.0f s)%n%n", kernel,
                guest.topology, millis / 1000.0);
        String fmt = "  %-36s %16s %16s%n";
        System.out.printf(fmt, "", small.name(), large.name());
        System.out.println("  guest side, calls per I/O");
        for (String f : GuestProbes.FUNCTIONS) {
            System.out.printf(fmt, f, String.format("%.2f", small.perIo(small.probe(f))), String.format("%.2f", large.perIo(large.probe(f))));
        }
        System.out.println("  device side");
        row(fmt, "DMA_MAP per I/O", small.perIo(small.dmaMaps()), large.perIo(large.dmaMaps()));
        row(fmt, "DMA_UNMAP per I/O", small.perIo(small.dmaUnmaps()), large.perIo(large.dmaUnmaps()));
        System.out.printf(fmt, "multi-page commands", small.multiPage(), large.multiPage());
        System.out.printf(fmt, "  in one contiguous IOVA range", small.contiguous(), large.contiguous());
        System.out.printf(fmt, "commands with PRP / SGL", small.prpCommands() + " / " + small.sglCommands(),
                large.prpCommands() + " / " + large.sglCommands());
        System.out.printf(fmt, "IOMMU faults", small.faults(), large.faults());
        System.out.printf(fmt, "bytes moved", small.bytes(), large.bytes());
        System.out.println("  fio");
        System.out.printf(fmt, "IOPS", String.format("%.0f", small.iops()), String.format("%.0f", large.iops()));
        System.out.printf(fmt, "bandwidth KiB/s", String.format("%.0f", small.bandwidthKiB()), String.format("%.0f", large.bandwidthKiB()));
        System.out.printf(fmt, "latency p50 / p99 µs", String.format("%.0f / %.0f", small.p50Micros(), small.p99Micros()),
                String.format("%.0f / %.0f", large.p50Micros(), large.p99Micros()));
        System.out.printf(fmt, "errors", small.fioErrors(), large.fioErrors());
        System.out.println();
        System.out.println(twoStep
                ? "  two-step DMA API: YES — 64 KiB requests went through dma_iova_link, and the device saw them as contiguous IOVA ranges"
                : "  two-step DMA API: NO — no dma_iova_link for this device (kernel without the API, or the path was not taken)");
        System.out.println(clean ? "  no IOMMU faults, no I/O errors"
                : "  NOT CLEAN: " + faults + " IOMMU faults, " + errors + " fio errors");
        System.out.println(clean && twoStep ? "  verdict: CLEAN, two-step path taken"
                : "  verdict: " + (clean ? "clean, but the two-step path was not taken" : "NOT CLEAN"));
        return clean && twoStep;
    }

    private static void row(String fmt, String what, double a, double b) {
        System.out.printf(fmt, what, String.format("%.2f", a), String.format("%.2f", b));
    }
}
