package io.iovalab.bench.soak;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.iommu.Statistics;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Issue 12, acceptance 5: a soak of the NVMe model under a real guest, not in CI. Rounds of fio
 * write+verify (random sizes 4k-128k, two jobs) run back to back behind intel-iommu in strict mode,
 * so every I/O is a DMA_MAP and a DMA_UNMAP. During each round the guest resets the controller
 * every {@code resetEvery} seconds; between rounds, every {@code rebindEvery}-th round, it unbinds
 * and rebinds the nvme driver, which tears down and re-creates every queue and its mappings.
 * Prints the figures at the end; exits 0 only when nothing went wrong.
 *
 * <pre>java ... NvmeSoak MINUTES [RESET_EVERY_S] [REBIND_EVERY_ROUNDS] [WORK_DIR]</pre>
 */
public final class NvmeSoak {
    private static final ObjectMapper JSON = new ObjectMapper();

    public static void main(String[] args) throws Exception {
        double minutes = args.length > 0 ? Double.parseDouble(args[0]) : 60;
        int resetEvery = args.length > 1 ? Integer.parseInt(args[1]) : 15;
        int rebindEvery = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        Path dir = args.length > 3 ? Path.of(args[3]) : Files.createTempDirectory("iovalab-soak");
        Files.createDirectories(dir);
        SoakFigures f = run(Duration.ofMillis((long) (minutes * 60_000)), resetEvery, rebindEvery, dir);
        System.out.print(f.table());
        System.exit(f.clean() ? 0 : 1);
    }

    static SoakFigures run(Duration duration, int resetEvery, int rebindEvery, Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        SoakFigures f = new SoakFigures(duration);
        long t0 = System.nanoTime();
        long deadline = t0 + duration.toNanos();
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket,
                DeviceConfig.parse("nvme:size=512M,queues=2")), DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1536).start()) {
            f.kernel = g.kernelRelease();
            waitForNamespace(g);
            // SeaBIOS enables the controller too before Linux probes it: count from here
            f.enablesAtStart = ((Number) server.device().inspect().get("enables")).longValue();
            String bdf = g.run("basename $(readlink -f /sys/class/nvme/nvme0/device)", Duration.ofSeconds(30))
                    .requireSuccess("PCI address").stdout().strip();
            while (System.nanoTime() < deadline) {
                round(g, f, resetEvery);
                progress(f, server, t0);
                if (f.rounds % rebindEvery == 0 && System.nanoTime() < deadline) {
                    // every mapping of the old queues goes, the probe maps new ones
                    ExecResult r = g.run("""
                            echo %1$s > /sys/bus/pci/drivers/nvme/unbind && echo %1$s > /sys/bus/pci/drivers/nvme/bind
                            """.formatted(bdf), Duration.ofSeconds(120));
                    if (r.exitCode() != 0) {
                        f.note("rebind failed: " + r.stderr().strip());
                    } else {
                        f.rebinds++;
                    }
                    waitForNamespace(g);
                }
            }
            f.elapsed = Duration.ofNanos(System.nanoTime() - t0);
            f.guestErrors = g.run("dmesg | grep -E 'nvme[0-9]' | grep -viE 'resetting controller|pci function|queues$'"
                    + " | grep -ciE 'error|fail|timeout|abort|down|disabl'", Duration.ofSeconds(60)).stdout().strip();
            f.guestErrorLines = g.run("dmesg | grep -E 'nvme[0-9]' | grep -viE 'resetting controller|pci function|queues$'"
                    + " | grep -iE 'error|fail|timeout|abort|down|disabl' | tail -n 5", Duration.ofSeconds(60)).stdout().strip();
            f.device(server.iovaSpace().statistics(), server.device().inspect());
            f.serving = g.run("dd if=/dev/nvme0n1 of=/dev/null bs=4k count=16 iflag=direct", Duration.ofSeconds(60)).exitCode() == 0;
        }
        return f;
    }

    /** One fio write+verify round with a controller reset loop beside it. */
    private static void round(GuestSession g, SoakFigures f, int resetEvery) throws Exception {
        int n = f.rounds + 1;
        String out = "/host/fio-" + n + ".json";
        ExecResult r = g.run("""
                rm -f /host/resets /host/reset.err /tmp/stop-resets
                # stopped by a flag, not a signal: a reset in progress finishes and is counted; the
                # clock carries over between rounds, or rounds shorter than the period would get none
                ( t=$(cat /tmp/reset-clock 2>/dev/null || echo 0)
                  while [ ! -e /tmp/stop-resets ]; do
                    sleep 1; t=$((t + 1)); echo $t > /tmp/reset-clock; [ $t -lt %d ] && continue; t=0; echo 0 > /tmp/reset-clock
                    if echo 1 > /sys/class/nvme/nvme0/reset_controller 2>>/host/reset.err; then echo ok >> /host/resets
                    else echo failed >> /host/resets; fi
                  done ) &
                resetter=$!
                fio --name=soak --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randwrite --bsrange=4k-128k \\
                    --iodepth=16 --numjobs=2 --size=48M --offset_increment=128M --verify=crc32c --do_verify=1 \\
                    --verify_fatal=1 --randseed=%d --group_reporting --output-format=json --output=%s
                rc=$?
                touch /tmp/stop-resets
                wait $resetter
                exit $rc
                """.formatted(resetEvery, n, out), Duration.ofMinutes(20));
        f.rounds++;
        Path shared = g.shared();
        Path resets = shared.resolve("resets");
        if (Files.exists(resets)) {
            for (String l : Files.readAllLines(resets)) {
                if (l.equals("ok")) {
                    f.resets++;
                } else {
                    f.failedResets++;
                }
            }
        }
        Path json = shared.resolve("fio-" + n + ".json");
        if (r.exitCode() != 0 || !Files.exists(json)) {
            f.failedRounds++;
            f.note("round " + n + ": fio exit " + r.exitCode() + ": " + last(r.stdout() + r.stderr()));
        }
        if (Files.exists(json)) {
            String text = Files.readString(json);
            JsonNode job = JSON.readTree(text.substring(text.indexOf('{'))).path("jobs").path(0);
            f.reads += job.path("read").path("total_ios").asLong();
            f.writes += job.path("write").path("total_ios").asLong();
            f.bytes += job.path("read").path("io_bytes").asLong() + job.path("write").path("io_bytes").asLong();
            f.fioErrors += job.path("error").asLong();
        }
    }

    private static void waitForNamespace(GuestSession g) throws Exception {
        g.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(120), "nvme0n1");
    }

    private static void progress(SoakFigures f, VfioUserServer server, long t0) {
        Statistics s = server.iovaSpace().statistics();
        System.err.printf("soak: %4.1f min, round %d, %d I/Os, %d resets, %d rebinds, %d maps, %d faults, %d failed rounds%n",
                (System.nanoTime() - t0) / 60e9, f.rounds, f.reads + f.writes, f.resets, f.rebinds, s.maps(), s.faults(),
                f.failedRounds);
    }

    private static String last(String s) {
        String t = s.strip();
        return t.length() > 400 ? "..." + t.substring(t.length() - 400) : t;
    }

    private NvmeSoak() {
    }
}
