package io.iovalab.guest;

import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.VfioUserServer;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * doorbells=mmap with a real QEMU: it maps BAR0's doorbell page from the region fd, the guest's
 * doorbell stores land in the device's memory without a message, and the polling device still
 * serves every command — with shadow doorbells negotiated and without (that run also with SGLs off,
 * so 128 KiB requests walk PRP lists).
 */
class NvmeMappedDoorbellGuestTest {

    @ParameterizedTest
    @ValueSource(strings = {"dbbuf=on", "dbbuf=off,sgl=off"})
    void fio_verify_is_clean_and_no_doorbell_is_trapped(String keys, @TempDir Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        String dbbuf = keys.contains("dbbuf=on") ? "on" : "off";
        try (VfioUserServer server = NvmeGuestTest.nvme(socket, "size=256M,queues=2,doorbells=mmap," + keys);
             GuestSession g = NvmeGuestTest.boot(dir, "intel-iommu", socket)) {
            for (String bs : new String[] {"4k", "128k"}) {
                ExecResult r = g.run("fio --name=verify --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randwrite"
                        + " --bs=" + bs + " --iodepth=32 --numjobs=2 --size=8M --offset_increment=32M --verify=crc32c"
                        + " --do_verify=1 --verify_fatal=1 --group_reporting --output-format=terse --terse-version=3",
                        Duration.ofSeconds(600)).requireSuccess("fio " + bs);
                String[] terse = r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow().split(";");
                assertEquals("0", terse[4], "fio errors at " + bs + ": " + r.stdout());
            }
            Map<String, Object> dev = server.device().inspect();
            System.out.printf("doorbells=mmap %s: %s commands (%s PRP, %s SGL), %s trapped doorbell writes, shadow doorbells %s%n",
                    keys, dev.get("commands"), dev.get("prpCommands"), dev.get("sglCommands"), dev.get("trappedDoorbellWrites"),
                    dev.get("shadowDoorbells"));
            assertEquals("mmap", dev.get("doorbells"));
            assertTrue((Long) dev.get("commands") > 4096, "the verify ran through the device: " + dev);
            assertEquals(0L, dev.get("trappedDoorbellWrites"), "every doorbell went through the mapped page: " + dev);
            assertEquals(dbbuf.equals("on"), dev.get("shadowDoorbells"), "shadow doorbells as negotiated");
            if (keys.contains("sgl=off")) {
                assertEquals(0L, dev.get("sglCommands"), "sgl=off: every command used PRPs");
            }
            assertEquals(0L, dev.get("errors"), dev.toString());
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }
}
