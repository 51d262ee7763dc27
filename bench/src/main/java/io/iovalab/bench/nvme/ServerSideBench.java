package io.iovalab.bench.nvme;

import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * B2 (issue 11): the NVMe device on the null backend, served by the real server in this process,
 * driven over its socket by {@link NvmeHost} with 4 KiB random reads at a fixed queue depth.
 * One run per doorbell mode; the trapped-doorbell run is the reference for the mmapped one.
 * Commands per server core = commands / CPU time of the server's threads (worker and message
 * thread), so a device that spins is charged for its spinning.
 *
 * <p>Arguments: {@code seconds qd mode...} (modes: trap, mmap). Prints one line per mode,
 * {@code key=value}, for {@code bench/nvme-server.sh} to tabulate.
 */
public final class ServerSideBench {

    record Result(String mode, long commands, double wallSeconds, double serverCpuSeconds, double workerCpuSeconds,
                  double workerBytesPerCommand, double serverBytesPerCommand, long trappedDoorbells,
                  double p50, double p99, double p999) {
        String line() {
            return String.format("mode=%s commands=%d wall=%.3f serverCpu=%.3f workerCpu=%.3f iops=%.0f perServerCore=%.0f "
                            + "perWorkerCore=%.0f workerBytesPerCmd=%.2f serverBytesPerCmd=%.2f trappedDoorbells=%d "
                            + "p50us=%.1f p99us=%.1f p999us=%.1f",
                    mode, commands, wallSeconds, serverCpuSeconds, workerCpuSeconds, commands / wallSeconds,
                    commands / serverCpuSeconds, commands / workerCpuSeconds, workerBytesPerCommand, serverBytesPerCommand,
                    trappedDoorbells, p50, p99, p999);
        }
    }

    public static void main(String[] args) throws Exception {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 5;
        int qd = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        List<String> modes = args.length > 2 ? List.of(args).subList(2, args.length) : List.of("trap", "mmap");
        for (String mode : modes) {
            System.out.println(run(mode, qd, seconds).line());
        }
    }

    static Result run(String mode, int qd, double seconds) throws Exception {
        Path dir = Files.createTempDirectory("iovalab-b2");
        Path socket = dir.resolve("nvme.sock");
        String name = "b2" + mode;
        DeviceConfig device = DeviceConfig.parse("nvme:backend=null,size=1G,queues=1,mqes=1024,dbbuf=off,doorbells=" + mode);
        ServerOptions o = ServerOptions.defaults(socket, device);
        o = new ServerOptions(o.socket(), o.device(), name, o.maxMsgFds(), o.maxDataXferSize(), o.maxDmaMaps());
        try (VfioUserServer server = VfioUserServer.start(o, DeviceRegistry.system());
             NvmeHost host = new NvmeHost(socket, Math.max(2 * qd, 64))) {
            host.start();
            if (host.mappedDoorbells() != mode.equals("mmap")) {
                throw new IllegalStateException(mode + ": the device offered " + (host.mappedDoorbells() ? "a" : "no")
                        + " mmapped doorbell page");
            }
            long[] submitted = new long[qd];
            long seed = 0x9e3779b97f4a7c15L;
            long blocks4k = (1L << 30) / 4096;
            // warm-up: the JIT compiles the device's hot path before anything is counted
            loop(host, submitted, new LatencyHistogram(), seed, blocks4k, Math.min(2.0, seconds / 2), true);
            List<Thread> threads = serverThreads(name);
            Thread worker = threads.stream().filter(t -> t.getName().startsWith(name + "-nvme")).findFirst().orElseThrow();
            long cpu0 = cpu(threads), worker0 = cpu(List.of(worker));
            long alloc0 = allocated(threads), workerAlloc0 = allocated(List.of(worker));
            long trapped0 = trapped(server);
            LatencyHistogram h = new LatencyHistogram();
            long t0 = System.nanoTime();
            long n = loop(host, submitted, h, seed * 31, blocks4k, seconds, false);
            double wall = (System.nanoTime() - t0) / 1e9;
            double serverCpu = (cpu(threads) - cpu0) / 1e9, workerCpu = (cpu(List.of(worker)) - worker0) / 1e9;
            double workerBytes = (allocated(List.of(worker)) - workerAlloc0) / (double) n;
            double serverBytes = (allocated(threads) - alloc0) / (double) n;
            return new Result(mode, n, wall, serverCpu, workerCpu, workerBytes, serverBytes, trapped(server) - trapped0,
                    h.percentileMicros(0.5), h.percentileMicros(0.99), h.percentileMicros(0.999));
        } finally {
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** Keeps {@code qd} reads in flight for {@code seconds}; returns how many completed. */
    private static long loop(NvmeHost host, long[] submitted, LatencyHistogram h, long seed, long blocks, double seconds,
                             boolean warmup) throws Exception {
        int qd = submitted.length;
        long x = seed;
        for (int cid = 0; cid < qd; cid++) {
            x = xorshift(x);
            submitted[cid] = System.nanoTime();
            host.queueRead(cid, Long.remainderUnsigned(x, blocks) * 8);
        }
        host.ringSq();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long done = 0;
        int inFlight = qd;
        while (inFlight > 0) {
            boolean stopping = System.nanoTime() - end > 0;
            int reaped = 0;
            int cid;
            while ((cid = host.reap()) >= 0) {
                long now = System.nanoTime();
                h.record(now - submitted[cid]);
                reaped++;
                done++;
                if (stopping) {
                    inFlight--;
                } else {
                    x = xorshift(x);
                    submitted[cid] = now;
                    host.queueRead(cid, Long.remainderUnsigned(x, blocks) * 8);
                }
            }
            if (reaped > 0) {
                host.ringCq();
                if (!stopping) {
                    host.ringSq();
                }
            } else {
                Thread.onSpinWait();
            }
        }
        return done;
    }

    private static long xorshift(long x) {
        x ^= x << 13;
        x ^= x >>> 7;
        return x ^ (x << 17);
    }

    private static List<Thread> serverThreads(String name) {
        List<Thread> out = new ArrayList<>();
        for (Thread t : Thread.getAllStackTraces().keySet()) {
            if (t.getName().startsWith(name + "-")) {
                out.add(t);
            }
        }
        return out;
    }

    private static long cpu(List<Thread> threads) {
        var mx = ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : threads) {
            sum += Math.max(0, mx.getThreadCpuTime(t.threadId()));
        }
        return sum;
    }

    private static long allocated(List<Thread> threads) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long sum = 0;
        for (Thread t : threads) {
            sum += Math.max(0, mx.getThreadAllocatedBytes(t.threadId()));
        }
        return sum;
    }

    private static long trapped(VfioUserServer server) {
        Map<String, Object> m = server.device().inspect();
        return ((Number) m.get("trappedDoorbellWrites")).longValue();
    }
}
