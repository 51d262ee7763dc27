package io.iovalab.guest;

import io.iovalab.iommu.Statistics;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/** Linux's nvme driver on iovalab's NVMe controller, behind intel-iommu, default 7.3 kernel. */
class NvmeGuestTest {

    static VfioUserServer nvme(Path socket, String options) throws Exception {
        return VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("nvme:" + options)), DeviceRegistry.system());
    }

    static GuestSession boot(Path dir, String topology, Path socket) throws Exception {
        GuestSession g = Guest.builder().topology(topology).vfioUser(socket).workDir(dir.resolve("guest")).memoryMiB(1536).start();
        g.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(90), "nvme driver probe");
        return g;
    }

    @Test
    void nvme_binds_and_nvme_cli_reports_the_configured_controller(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        try (VfioUserServer server = nvme(socket, "size=256M,serial=IOVATEST42,model=iovalab test,mdts=5");
             GuestSession g = boot(dir, "intel-iommu", socket)) {
            Map<String, Object> probed = server.device().inspect();
            assertEquals(0L, probed.get("errors"), "the driver's probe got an error status: " + probed.get("lastError"));
            ExecResult r = g.run("""
                    set -e
                    nvme list
                    nvme id-ctrl /dev/nvme0 | grep -E '^(sn|mn|mdts|sgls|oacs|nn) '
                    nvme id-ns /dev/nvme0n1 | grep -E '^(nsze|flbas)|lbaf'
                    nvme smart-log /dev/nvme0 | grep -E '^(available_spare|temperature)\\s'
                    cat /sys/class/nvme/nvme0/device/iommu_group/type
                    """, Duration.ofSeconds(60)).requireSuccess("nvme-cli");
            String out = r.stdout();
            assertTrue(out.contains("IOVATEST42"), out);
            assertTrue(out.contains("iovalab test"), out);
            assertTrue(out.matches("(?s).*mdts\\s+: 5.*"), out);
            assertTrue(out.matches("(?s).*nsze\\s+: 0x80000.*"), out);  // 256 MiB of 512 B blocks
            assertTrue(out.matches("(?s).*available_spare\\s+: 100\\s*%.*"), out);
            assertTrue(out.strip().endsWith("DMA"), out);

            ExecResult f = g.run("""
                    set -e
                    nvme format /dev/nvme0n1 --lbaf=1 --force
                    sleep 1
                    cat /sys/block/nvme0n1/queue/logical_block_size
                    blkdiscard /dev/nvme0n1 && echo discard-ok
                    """, Duration.ofSeconds(60)).requireSuccess("format");
            assertTrue(f.stdout().contains("4096"), f.stdout());
            assertTrue(f.stdout().contains("discard-ok"), f.stdout());
            Map<String, Object> seen = server.device().inspect();
            assertEquals(0L, seen.get("faults"), seen.toString());
        }
    }

    @Test
    void fio_verify_is_clean_at_4k_and_128k_with_two_jobs(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        try (VfioUserServer server = nvme(socket, "size=256M,queues=2");
             GuestSession g = boot(dir, "intel-iommu", socket)) {
            for (String bs : new String[] {"4k", "128k"}) {
                ExecResult r = g.run("fio --name=verify --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randwrite"
                        + " --bs=" + bs + " --iodepth=32 --numjobs=2 --size=24M --offset_increment=32M --verify=crc32c"
                        + " --do_verify=1 --verify_fatal=1 --group_reporting --output-format=terse --terse-version=3",
                        Duration.ofSeconds(600)).requireSuccess("fio " + bs);
                String[] terse = r.stdout().strip().lines().reduce((a, b) -> b).orElseThrow().split(";");
                assertEquals("0", terse[4], "fio errors at " + bs + ": " + r.stdout());
            }
            Statistics st = server.iovaSpace().statistics();
            Map<String, Object> dev = server.device().inspect();
            System.out.printf("shadow doorbells %s: %d MMIO SQ doorbell writes for %d commands%n",
                    dev.get("shadowDoorbells"), (Long) dev.get("mmioSqDoorbells"), (Long) dev.get("commands"));
            assertEquals(Boolean.TRUE, dev.get("shadowDoorbells"), "the guest negotiated shadow doorbells");
            assertTrue((Long) dev.get("mmioSqDoorbells") < (Long) dev.get("commands"),
                    "fewer doorbell MMIO writes than commands: " + dev);
            assertEquals(0, st.faults(), "IOMMU faults");
            assertTrue(st.maps() > 100, "behind intel-iommu every mapping arrives as DMA_MAP: " + st.maps());
            assertTrue(st.contiguousMultiPageCommands() > 0, st.toString());
        }
    }
}
