package io.iovalab.bench.nvme;

import io.iovalab.qemu.Accel;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.qemu.NvmeIoCounters;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * B1 (issue 11): one guest, three NVMe controllers side by side — QEMU's built-in {@code nvme}
 * (the reference), iovalab with mmapped doorbells and iovalab with trapped doorbells — every one
 * on a null backend behind the same vIOMMU, so the guest kernel, topology and accelerator are
 * the same for all. fio runs on one device at a time. Prints {@code key=value} lines for
 * {@code bench/nvme-guest.sh}.
 *
 * <p>Arguments: {@code seconds [topology [extra nvme keys for the mmap device, e.g. spin=0,poll=100]
 * [Interrupt Coalescing dword 11 the guest sets on every controller [rounds]]]]}.
 */
public final class GuestFioBench {
    record Workload(String name, String rw, String bs, int qd) {
    }

    static final List<Workload> WORKLOADS = List.of(
            new Workload("4k-randread-qd32", "randread", "4k", 32),
            new Workload("128k-seqread-qd32", "read", "128k", 32));

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        String topology = args.length > 1 ? args[1] : "intel-iommu";
        String mmapKeys = args.length > 2 && !args[2].isEmpty() ? "," + args[2] : "";
        String coalescing = args.length > 3 && !args[3].isEmpty() ? args[3] : "";
        int rounds = args.length > 4 ? Integer.parseInt(args[4]) : 3;
        Path dir = Files.createTempDirectory("iovalab-b1");
        Map<String, String> serials = new LinkedHashMap<>();
        serials.put("qemu-nvme", "B1QEMUNVME");
        serials.put("iovalab-mmap", "B1IOVAMMAP");
        serials.put("iovalab-trap", "B1IOVATRAP");
        try (VfioUserServer mmap = start(dir, "mmap", serials.get("iovalab-mmap") + mmapKeys);
             VfioUserServer trap = start(dir, "trap", serials.get("iovalab-trap"));
             GuestSession g = Guest.builder().topology(topology).workDir(dir.resolve("guest")).memoryMiB(1536)
                     .vfioUser(mmap.options().socket()).vfioUser(trap.options().socket())
                     .qemuArgs("-device", "pcie-root-port,id=b1_rp,chassis=21,slot=21",
                             "-blockdev", "driver=null-co,node-name=b1null,size=1073741824,read-zeroes=on",
                             "-device", "nvme,drive=b1null,serial=" + serials.get("qemu-nvme") + ",bus=b1_rp")
                     .start()) {
            g.waitFor("test $(ls /sys/class/nvme | wc -l) -ge 3 && test -b /dev/nvme2n1", Duration.ofSeconds(120),
                    "three nvme controllers");
            System.out.println("accel=" + Accel.AUTO.resolve().qemuName() + " topology=" + topology + " kernel="
                    + g.kernelRelease() + " seconds=" + seconds + " mmapKeys=" + (mmapKeys.isEmpty() ? "-" : mmapKeys.substring(1))
                    + " coalescing=" + (coalescing.isEmpty() ? "-" : coalescing) + " rounds=" + rounds);
            Map<String, String> nodes = new LinkedHashMap<>();
            for (Map.Entry<String, String> dev : serials.entrySet()) {
                nodes.put(dev.getKey(), node(g, dev.getValue()));
            }
            if (!coalescing.isEmpty()) {
                for (Map.Entry<String, String> dev : nodes.entrySet()) {
                    String ctrl = NvmeIoCounters.controller(dev.getValue());
                    ExecResult r = g.run("nvme set-feature /dev/" + ctrl + " -f 8 -V " + coalescing + " && nvme get-feature /dev/"
                            + ctrl + " -f 8", Duration.ofSeconds(30));
                    System.out.printf("device=%s coalescingSet=%s answer=%s%n", dev.getKey(), r.exitCode() == 0,
                            r.stdout().strip().lines().reduce((a, b) -> b).orElse("").replace(' ', '_'));
                }
            }
            // rounds interleave the devices (A B C A B C ...): this machine's speed drifts by 2x within
            // minutes, and interleaving spreads the drift over all of them rather than one
            for (Workload w : WORKLOADS) {
                for (int round = 1; round <= rounds; round++) {
                    for (Map.Entry<String, String> dev : nodes.entrySet()) {
                        String node = dev.getValue();
                        NvmeIoCounters before = NvmeIoCounters.sample(g, node);
                        ExecResult r = g.run("fio --name=b1 --filename=" + node + " --direct=1 --ioengine=libaio --rw=" + w.rw()
                                + " --bs=" + w.bs() + " --iodepth=" + w.qd() + " --ramp_time=3 --runtime=" + seconds
                                + " --time_based --size=1G --output-format=terse --terse-version=3",
                                Duration.ofSeconds(seconds + 240)).requireSuccess("fio " + w.name() + " on " + dev.getKey());
                        NvmeIoCounters run = NvmeIoCounters.sample(g, node).since(before);
                        String[] t = r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow().split(";");
                        // terse v3: 4 error, 6 read bandwidth KiB/s, 7 read IOPS; completion latency percentiles follow
                        System.out.printf("workload=%s round=%d device=%s node=%s errors=%s iops=%s bwKiB=%s ios=%d irqs=%d%n",
                                w.name(), round, dev.getKey(), node, t[4], t[7], t[6], run.reads(), run.interrupts());
                    }
                }
            }
            Map<String, Object> m = mmap.device().inspect();
            System.out.printf("device=iovalab-mmap trappedDoorbellWrites=%s commands=%s errors=%s%n", m.get("trappedDoorbellWrites"),
                    m.get("commands"), m.get("errors"));
        }
    }

    /** {@code serial} may carry more keys after it ({@code SERIAL,spin=0}). */
    private static VfioUserServer start(Path dir, String doorbells, String serial) throws Exception {
        Path socket = dir.resolve(doorbells + ".sock");
        DeviceConfig c = DeviceConfig.parse("nvme:backend=null,size=1G,queues=2,doorbells=" + doorbells + ",serial=" + serial);
        ServerOptions o = ServerOptions.defaults(socket, c);
        return VfioUserServer.start(new ServerOptions(socket, c, "b1" + doorbells, o.maxMsgFds(), o.maxDataXferSize(),
                o.maxDmaMaps()), DeviceRegistry.system());
    }

    /** The block device of the controller with {@code serial}. */
    private static String node(GuestSession g, String serial) throws Exception {
        ExecResult r = g.run("for c in /sys/class/nvme/nvme*; do if [ \"$(cat $c/serial | tr -d ' ')\" = " + serial
                + " ]; then echo /dev/$(basename $c)n1; fi; done", Duration.ofSeconds(30)).requireSuccess("find " + serial);
        String node = r.stdout().strip();
        if (!node.startsWith("/dev/nvme")) {
            throw new IllegalStateException("no controller with serial " + serial + ": " + r.stdout());
        }
        return node;
    }
}
