package io.iovalab.guest;

import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import io.iovalab.qemu.NvmeIoCounters;
import io.iovalab.server.VfioUserServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Interrupt Coalescing (Set Features 08h) as the Linux driver meets it: nvme-cli sets it, the guest
 * counts fewer interrupts per completed read at queue depth 32, a lone read waits for the
 * aggregation time, and setting it back to 0 gives one interrupt per completion pass again.
 * The counts come from the guest's own /proc/interrupts and block statistics.
 */
class NvmeInterruptCoalescingGuestTest {
    /** THR = 7 (8 entries, 0's based) or TIME = 0xff x 100 us = 25.5 ms, whichever comes first. */
    private static final int SETTING = 0xff07;
    private static final String NODE = "/dev/nvme0n1";

    @Test
    void the_guest_takes_one_interrupt_per_aggregate_and_a_lone_read_waits_the_aggregation_time(@TempDir Path dir)
            throws Exception {
        Path socket = dir.resolve("nvme.sock");
        try (VfioUserServer server = NvmeGuestTest.nvme(socket, "size=64M,queues=2");
             GuestSession g = NvmeGuestTest.boot(dir, "none", socket)) {
            double plain = perInterrupt(g, 32);
            long plainLone = readsPerSecond(g);

            g.run("nvme set-feature /dev/nvme0 -f 8 -V " + SETTING, Duration.ofSeconds(30)).requireSuccess("set-feature 08h");
            String got = g.run("nvme get-feature /dev/nvme0 -f 8", Duration.ofSeconds(30)).requireSuccess("get-feature 08h").stdout();
            assertTrue(got.contains(String.format("0x%08x", SETTING)), "Get Features returns the setting: " + got);
            double coalesced = perInterrupt(g, 32);
            long coalescedLone = readsPerSecond(g);

            g.run("nvme set-feature /dev/nvme0 -f 8 -V 0", Duration.ofSeconds(30)).requireSuccess("set-feature 08h off");
            long offAgainLone = readsPerSecond(g);

            Map<String, Object> dev = server.device().inspect();
            System.out.printf("QD32: %.2f reads per interrupt plain, %.2f with 0x%04x; QD1: %d reads/s plain, %d coalesced, %d off again%n",
                    plain, coalesced, SETTING, plainLone, coalescedLone, offAgainLone);
            assertTrue(coalesced >= 6, "8 entries per interrupt asked for, the guest saw " + coalesced + " (plain: " + plain + ")");
            // one read in flight never reaches 8 entries: each completion waits out the 25.5 ms
            assertTrue(coalescedLone >= 5 && coalescedLone <= 45, "QD1 under 25.5 ms aggregation: " + coalescedLone + " reads/s");
            assertTrue(offAgainLone > 5 * coalescedLone, "coalescing off again: " + offAgainLone + " vs " + coalescedLone + " reads/s");
            assertEquals(0L, dev.get("errors"), dev.toString());
        }
    }

    /** Reads completed per interrupt taken by the I/O queues during a 3 s fio at {@code qd}. */
    private static double perInterrupt(GuestSession g, int qd) throws Exception {
        NvmeIoCounters before = NvmeIoCounters.sample(g, NODE);
        fio(g, qd, 3);
        NvmeIoCounters run = NvmeIoCounters.sample(g, NODE).since(before);
        assertTrue(run.interrupts() > 0, "the I/O queues took interrupts");
        return (double) run.reads() / run.interrupts();
    }

    private static long readsPerSecond(GuestSession g) throws Exception {
        NvmeIoCounters before = NvmeIoCounters.sample(g, NODE);
        fio(g, 1, 2);
        return NvmeIoCounters.sample(g, NODE).since(before).reads() / 2;
    }

    private static void fio(GuestSession g, int qd, int seconds) throws Exception {
        ExecResult r = g.run("fio --name=irq --filename=" + NODE + " --direct=1 --ioengine=libaio --rw=randread --bs=4k"
                + " --iodepth=" + qd + " --runtime=" + seconds + " --time_based --output-format=terse --terse-version=3",
                Duration.ofSeconds(120)).requireSuccess("fio QD" + qd);
        assertEquals("0", r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow().split(";")[4], "fio errors: " + r.stdout());
    }
}
