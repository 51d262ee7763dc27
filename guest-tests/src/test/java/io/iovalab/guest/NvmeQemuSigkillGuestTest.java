package io.iovalab.guest;

import com.fasterxml.jackson.databind.JsonNode;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 12, acceptance 3 (first half): QEMU SIGKILLed while its guest runs fio. The server (its own
 * {@code iovalab serve} process) must drop every DMA map of the dead client, stay up, and serve a new
 * QEMU whose guest reads back intact what the first guest wrote and flushed before the kill.
 */
class NvmeQemuSigkillGuestTest {
    private static final String DEVICE = "nvme:backend=file,file=%s,size=64M,queues=2";

    @Test
    void after_qemu_is_sigkilled_during_fio_the_server_drops_all_maps_and_a_new_guest_reads_the_flushed_data(
            @TempDir Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        try (ServeProcess server = ServeProcess.start(socket, DEVICE.formatted(dir.resolve("disk.img")), dir.resolve("serve.log"))) {
            String sum;
            long mapsBefore;
            try (GuestSession first = NvmeGuestTest.boot(dir.resolve("one"), "intel-iommu", socket)) {
                // the first 8 MiB: written, then fsync on the block device, which is an NVMe Flush
                sum = first.run("""
                        set -e
                        dd if=/dev/urandom of=/tmp/data bs=1M count=8 2>/dev/null
                        dd if=/tmp/data of=/dev/nvme0n1 bs=1M oflag=direct conv=fsync 2>/dev/null
                        md5sum < /tmp/data
                        """, Duration.ofSeconds(120)).requireSuccess("write and flush the first 8 MiB").stdout().strip();
                long flushes = server.inspect().path("state").path("flushes").asLong();
                assertTrue(flushes > 0, "the device saw the Flush");
                first.run("fio --name=bg --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randwrite --bs=4k"
                        + " --iodepth=16 --numjobs=2 --offset=8M --size=56M --time_based --runtime=600 > /host/fio.out 2>&1 &",
                        Duration.ofSeconds(30)).requireSuccess("start fio");
                long writes0 = server.inspect().path("state").path("writes").asLong();
                JsonNode during = awaitState(server, s -> s.path("state").path("writes").asLong() > writes0 + 300,
                        Duration.ofSeconds(60), "fio writing");
                mapsBefore = during.path("iommu").path("mappings").size();
                assertTrue(mapsBefore > 0, "the guest's queues and buffers are mapped while fio runs");

                first.process().destroyForcibly(); // SIGKILL
                assertTrue(first.process().waitFor(30, TimeUnit.SECONDS), "QEMU gone");
            }

            // the server logs the drop once its cleanup is over; inspect may show the empty map a moment before
            JsonNode after = awaitState(server, s -> s.path("iommu").path("mappings").isEmpty()
                            && server.log().contains("client gone; device reset, all DMA maps dropped"), Duration.ofSeconds(30),
                    "the dead client's DMA maps dropped");
            JsonNode stats = after.path("iommu").path("statistics");
            System.out.printf("QEMU killed with %d live DMA maps; after: %d live, %s%n", mapsBefore,
                    after.path("iommu").path("mappings").size(), stats);
            assertTrue(server.isAlive(), "the server survived its client's SIGKILL:\n" + server.log());
            assertEquals(0, stats.path("liveMappings").asLong(), stats.toString());
            assertEquals(0, stats.path("mappedBytes").asLong(), stats.toString());

            try (GuestSession second = NvmeGuestTest.boot(dir.resolve("two"), "intel-iommu", socket)) {
                ExecResult r = second.run("dd if=/dev/nvme0n1 bs=1M count=8 iflag=direct 2>/dev/null | md5sum",
                        Duration.ofSeconds(120)).requireSuccess("read back the flushed 8 MiB");
                assertEquals(sum, r.stdout().strip(), "what the first guest flushed before its QEMU was killed reads back intact");
                // and the device is fully usable again, not just readable
                second.run("fio --name=v --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randwrite --bs=4k"
                        + " --iodepth=16 --offset=16M --size=4M --verify=crc32c --verify_fatal=1",
                        Duration.ofSeconds(120)).requireSuccess("fio verify in the new guest");
            }
            JsonNode end = server.inspect();
            assertEquals(2, end.path("session").path("sessions").asLong(), "one server, two clients: " + end.path("session"));
            assertEquals(0, end.path("iommu").path("faults").asLong(), "IOMMU faults: " + end.path("iommu").path("recentFaults"));
            assertTrue(server.isAlive());
        }
    }

    private static JsonNode awaitState(ServeProcess server, java.util.function.Predicate<JsonNode> ok, Duration within,
                                       String what) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        JsonNode last = server.inspect();
        while (!ok.test(last)) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(what + ": not reached within " + within.toSeconds() + " s; inspect: "
                        + last.path("state").path("writes") + " writes, " + last.path("iommu").path("mappings").size()
                        + " mappings\n" + server.log());
            }
            Thread.sleep(100);
            last = server.inspect();
        }
        return last;
    }
}
