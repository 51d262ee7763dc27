package io.iovalab.qemu;

import java.io.IOException;
import java.time.Duration;

/**
 * What the guest itself counted for one NVMe namespace: reads completed (its block stat) and
 * interrupts taken by its controller's I/O queues (every CPU's column of /proc/interrupts). Two
 * samples around a run give the completions the guest handled per interrupt — most of what a
 * device changes about the guest's cost per I/O.
 */
public record NvmeIoCounters(long reads, long interrupts) {

    /** Samples {@code node}, e.g. /dev/nvme0n1 (its controller's queues are nvme0q1, nvme0q2, ...). */
    public static NvmeIoCounters sample(GuestSession g, String node) throws IOException {
        String dev = node.substring(node.lastIndexOf('/') + 1);
        String ctrl = controller(node);
        String out = g.run("read -r ios _ < /sys/block/" + dev + "/stat; echo $ios;"
                + " awk '$NF ~ /^" + ctrl + "q[1-9][0-9]*$/ { for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i } END { print s + 0 }'"
                + " /proc/interrupts", Duration.ofSeconds(30)).requireSuccess("I/O counters of " + dev).stdout().strip();
        String[] v = out.split("\\s+");
        return new NvmeIoCounters(Long.parseLong(v[0]), Long.parseLong(v[1]));
    }

    /** nvme0 for /dev/nvme0n1. */
    public static String controller(String node) {
        return node.substring(node.lastIndexOf('/') + 1, node.lastIndexOf('n'));
    }

    /** The counts between {@code earlier} and this sample. */
    public NvmeIoCounters since(NvmeIoCounters earlier) {
        return new NvmeIoCounters(reads - earlier.reads, interrupts - earlier.interrupts);
    }
}
