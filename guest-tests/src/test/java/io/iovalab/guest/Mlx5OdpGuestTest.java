package io.iovalab.guest;

import io.iovalab.cli.OdpExerciser;
import io.iovalab.iommu.DmaCommand;
import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.iovalab.guest.Mlx5GuestTest.assertClean;
import static io.iovalab.guest.Mlx5GuestTest.section;
import static org.junit.jupiter.api.Assertions.*;

/**
 * ODP memory registration on iovalab's mlx5 function, in one boot (issue 8, acceptance 1-2):
 * mlx5_ib reports on-demand paging; a pyverbs program registers an ODP MR over touched pages,
 * prefetches it with ibv_advise_mr, drops half of it with madvise(MADV_DONTNEED) and
 * deregisters it. The guest's probes count the hmm_dma_map_* → dma_iova_* calls for the
 * function; the device executes the UMR WQEs, and the MTT entries it holds — read back through
 * the IOMMU model — reach the program's pages (each starts with its page number).
 */
class Mlx5OdpGuestTest {
    static final int PAGES = 32;
    static final List<String> PROBED = List.of("hmm_dma_map_alloc", "hmm_dma_map_pfn", "hmm_dma_unmap_pfn", "hmm_dma_map_free",
            "dma_iova_try_alloc", "dma_iova_link", "dma_iova_sync", "dma_iova_unlink", "dma_iova_free");

    /** The exerciser, shared with {@code iovalab demo}: steps separated by handshake files so the test can look at the device in between. */
    static final String PROGRAM = OdpExerciser.source();

    static final String PROBES = """
            T=/sys/kernel/tracing
            B=$(basename $(ls -d /sys/bus/pci/drivers/mlx5_core/0000:*))
            for f in %1$s; do
              echo "f:iovalab/$f $f devname=dev->kobj.name:string" >> $T/dynamic_events || echo "NOPROBE $f"
              echo "hist:keys=devname if devname == \\"$B\\"" > $T/events/iovalab/$f/trigger || true
              echo 1 > $T/events/iovalab/$f/enable || true
            done
            """.formatted(String.join(" ", PROBED));

    static final String READ_PROBES = """
            T=/sys/kernel/tracing
            for f in %1$s; do
              n=$(sed -n 's/.*hitcount: *\\([0-9]*\\).*/\\1/p' $T/events/iovalab/$f/hist 2>/dev/null | awk '{s+=$1} END {print s+0}')
              echo "PROBE $f $n"
            done
            """.formatted(String.join(" ", PROBED));

    @Test
    void an_odp_mr_is_registered_prefetched_partly_invalidated_and_deregistered_through_umr(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mlx5.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("mlx5")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).kernelArgs("modprobe.blacklist=mlx5_core,mlx5_ib").start()) {
            Files.writeString(g.shared().resolve("odp.py"), PROGRAM, StandardCharsets.UTF_8);
            String out = g.run(Mlx5GuestTest.ARM_TRACE + "\nset -e\nmodprobe mlx5_ib\nmodprobe ib_uverbs\n"
                    + "echo \"IBDEV $(ls /sys/class/infiniband)\"\n"
                    + "echo ODP; ibv_devinfo -v -d mlx5_0 | grep -A2 -i odp_caps || true\n" + PROBES
                    + "setsid python3 /host/odp.py " + PAGES + " > /tmp/odp.log 2>&1 < /dev/null &\n"
                    + "for i in $(seq 600); do [ -e /tmp/odp.prefetched ] && break; grep -q Error /tmp/odp.log && break; sleep 0.1; done\n"
                    + "echo PROGRAM; cat /tmp/odp.log\necho DMESG; dmesg | grep -iE 'mlx5|umr' | tail -8\n"
                    + Mlx5GuestTest.EVENTS + Mlx5GuestTest.REPORT, Duration.ofSeconds(120)).requireSuccess("register").stdout();
            System.out.println(out);
            System.out.println("device after registration: " + brief(server.device().inspect()));
            assertTrue(out.contains("IBDEV mlx5_0"), out);
            String odp = section(out, "ODP", "PROGRAM");
            assertTrue(odp.contains("ODP_SUPPORT") && odp.contains("SUPPORT_SEND"), "mlx5_0 reports ODP with RC caps:\n" + odp);
            String prog = section(out, "PROGRAM", "TRACE");
            assertTrue(prog.contains("REG addr=") && prog.contains("ADVISE ok"), "ibv_reg_mr(ON_DEMAND) and ibv_advise_mr:\n" + prog);
            assertClean(out, "registration");
            long addr = Long.decode(prog.replaceAll("(?s).*REG addr=(0x[0-9a-f]+).*", "$1"));

            Map<String, Object> dev = server.device().inspect();
            Map<String, Object> key = odpKey(dev, addr);
            assertNotNull(key, "the device holds an enabled mkey at 0x" + Long.toHexString(addr) + ": " + brief(dev));
            Map<Long, Long> mtt = mtt(key);
            assertEquals(PAGES, mtt.size(), "every touched page present after the prefetch: " + mtt.keySet());
            int checked = checkContent(server, mtt, 0, PAGES);
            long umrAfterReg = (Long) dev.get("umrWqes");

            out = g.run("touch /tmp/odp.go.prefetched\n"
                    + "for i in $(seq 600); do [ -e /tmp/odp.dropped ] && break; grep -q Error /tmp/odp.log && break; sleep 0.1; done\n"
                    + "echo PROGRAM; cat /tmp/odp.log\necho TRACE\n", Duration.ofSeconds(90)).requireSuccess("madvise").stdout();
            assertTrue(out.contains("MADVISE rc=0"), out);
            dev = server.device().inspect();
            mtt = mtt(odpKey(dev, addr));
            for (long i = PAGES / 2; i < PAGES; i++) {
                assertFalse(mtt.containsKey(i), "entry " + i + " zapped by the invalidation: " + mtt.keySet());
            }
            checked += checkContent(server, mtt, 0, PAGES / 2);

            out = g.run("touch /tmp/odp.go.dropped\n"
                    + "for i in $(seq 600); do grep -q -e DONE -e Error /tmp/odp.log && break; sleep 0.1; done\n"
                    + "echo PROGRAM; cat /tmp/odp.log\n" + READ_PROBES + Mlx5GuestTest.EVENTS + Mlx5GuestTest.REPORT, Duration.ofSeconds(90))
                    .requireSuccess("dereg").stdout();
            System.out.println(out);
            assertTrue(out.contains("DEREG ok") && out.contains("DONE"), out);
            assertClean(out, "madvise and dereg");
            Map<String, Long> probes = new LinkedHashMap<>();
            for (String line : out.lines().toList()) {
                String[] p = line.strip().split("\\s+");
                if (p.length == 3 && p[0].equals("PROBE")) {
                    probes.put(p[1], Long.parseLong(p[2]));
                }
            }
            dev = server.device().inspect();
            System.out.println("ODP probes for mlx5_0's function: " + probes);
            System.out.println("device: " + brief(dev) + "\nMTT entries checked by content: " + checked);
            for (String f : List.of("hmm_dma_map_alloc", "hmm_dma_map_pfn", "dma_iova_link", "dma_iova_unlink")) {
                assertTrue(probes.getOrDefault(f, 0L) > 0, f + " ran for mlx5_0's device: " + probes);
            }
            assertTrue(probes.get("dma_iova_link") >= PAGES, "a link per present page: " + probes);
            assertTrue(probes.get("dma_iova_unlink") >= PAGES / 2, "an unlink per dropped page: " + probes);
            assertTrue((Long) dev.get("umrWqes") > umrAfterReg, "UMR WQEs for the invalidation and the revoke: " + brief(dev));
            assertEquals(0L, dev.get("wqeErrors"), "no UMR WQE failed: " + dev.get("lastWqeError"));
            assertEquals(0L, dev.get("commandsFailed"), "device-side failed commands");
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }

    /** The device's mkey whose range starts at the program's buffer. */
    @SuppressWarnings("unchecked")
    static Map<String, Object> odpKey(Map<String, Object> dev, long addr) {
        for (Map<String, Object> k : (List<Map<String, Object>>) dev.get("mttKeys")) {
            if ((Long) k.get("start") == addr && !(Boolean) k.get("free")) {
                return k;
            }
        }
        return null;
    }

    @SuppressWarnings("unchecked")
    static Map<Long, Long> mtt(Map<String, Object> key) {
        return key == null ? Map.of() : (Map<Long, Long>) key.get("mtt");
    }

    /** Reads each entry's IOVA through the IOMMU model: page i of the buffer starts with its own number. */
    static int checkContent(VfioUserServer server, Map<Long, Long> mtt, int from, int to) throws Exception {
        DmaCommand dma = server.iovaSpace().newCommand().start(0, DmaCommand.NO_COMMAND);
        int n = 0;
        try {
            for (long i = from; i < to; i++) {
                Long iova = mtt.get(i);
                assertNotNull(iova, "entry " + i + " present: " + mtt.keySet());
                byte[] b = new byte[16];
                dma.read(iova, b, 0, 16);
                assertEquals("IOVALAB-ODP-%04d".formatted(i), new String(b, StandardCharsets.US_ASCII),
                        "MTT entry " + i + " (IOVA 0x" + Long.toHexString(iova) + ") reaches page " + i);
                n++;
            }
        } finally {
            dma.end();
        }
        return n;
    }

    static String brief(Map<String, Object> dev) {
        Map<String, Object> m = new LinkedHashMap<>(dev);
        m.remove("commandLog");
        return m.toString();
    }
}
