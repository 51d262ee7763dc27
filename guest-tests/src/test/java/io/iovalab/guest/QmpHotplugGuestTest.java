package io.iovalab.guest;

import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.qemu.QmpClient;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** QMP drives a running guest: status, hot-plug of an iovalab device, an unplug request, quit. */
class QmpHotplugGuestTest {
    @Test
    void qmp_status_hotplug_unplug_and_quit(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("hot.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("dmacopy")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("none").workDir(dir.resolve("guest")).memoryMiB(1024)
                     .qemuArgs("-device", "pcie-root-port,id=hotport,chassis=30,slot=30").start();
             QmpClient qmp = QmpClient.connect(g.qmpSocket(), Duration.ofSeconds(30))) {
            assertEquals("running", qmp.status());
            qmp.deviceAdd(Map.of("driver", "vfio-user-pci", "id", "hot0", "bus", "hotport",
                    "socket", Map.of("type", "unix", "path", socket.toString())));
            g.waitFor("lspci -d 1b36:11fe | grep -q .", Duration.ofSeconds(60), "hot-plugged device visible in the guest");
            assertEquals(1, server.stats().sessions(), "QEMU connected to the server at device_add");

            // QEMU accepts the unplug request; completing it needs the guest's hotplug driver to eject the
            // device, which this TCG guest was not seen doing within a minute (see the issue note)
            qmp.deviceDel("hot0");

            qmp.quit();
            assertTrue(g.process().waitFor(30, TimeUnit.SECONDS), "QEMU exits on quit");
        }
    }
}
