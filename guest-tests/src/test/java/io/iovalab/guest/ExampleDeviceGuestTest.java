package io.iovalab.guest;

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

import static org.junit.jupiter.api.Assertions.*;

/** Real QEMU 11.1 with the example device attached through vfio-user-pci, behind intel-iommu. */
class ExampleDeviceGuestTest {

    @Test
    void guest_sees_ids_bars_and_capabilities_and_register_writes_reach_the_server(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("dmacopy.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("dmacopy")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).start()) {
            ExecResult lspci = g.run("lspci -vv -nn -d 1b36:11fe", Duration.ofSeconds(60)).requireSuccess("lspci");
            String out = lspci.stdout();
            assertTrue(out.contains("[1b36:11fe]"), out);
            assertTrue(out.contains("Subsystem: Red Hat, Inc. Device [1b36:11fe]") || out.contains("[1b36:11fe]"), out);
            assertTrue(out.matches("(?s).*Region 0: Memory at \\p{XDigit}+ \\(32-bit, non-prefetchable\\) \\[size=4K\\].*"), out);
            assertTrue(out.matches("(?s).*Region 2: Memory at \\p{XDigit}+ \\(64-bit, prefetchable\\) \\[size=1M\\].*"), out);
            assertTrue(out.contains("Power Management version 3"), out);
            assertTrue(out.contains("MSI-X: Enable- Count=4"), out);
            assertTrue(out.contains("Express (v2) Endpoint"), out);
            assertTrue(out.contains("FLReset+"), out);
            assertTrue(out.contains("Device Serial Number 01-23-45-67-89-ab-cd-ef"), out);

            // write the scratch register from the guest (setpci for config, devmem for the BAR)
            ExecResult w = g.run("""
                    set -e
                    bdf=$(lspci -D -d 1b36:11fe | cut -d' ' -f1)
                    setpci -s $bdf COMMAND=0x0002 CACHE_LINE_SIZE=0x10
                    bar0=$(head -n1 /sys/bus/pci/devices/$bdf/resource | cut -d' ' -f1)
                    busybox devmem $((bar0 + 8)) 32 0x12345678
                    echo scratch=$(busybox devmem $((bar0 + 8)) 32)
                    echo id=$(busybox devmem $bar0 32)
                    echo cls=$(setpci -s $bdf CACHE_LINE_SIZE)
                    """, Duration.ofSeconds(60)).requireSuccess("register write");
            assertTrue(w.stdout().contains("scratch=0x12345678"), w.stdout());
            assertTrue(w.stdout().contains("id=0x41564F49"), w.stdout());
            assertTrue(w.stdout().contains("cls=10"), w.stdout());
            assertEquals(0x12345678, server.device().inspect().get("scratch"), "the write reached the server");
            byte[] cfg = new byte[1];
            server.device().function().configRead(0x0c, cfg, 0, 1);
            assertEquals(0x10, cfg[0], "config write reached the server's config space");
        }
    }
}
