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
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The guest's own mlx5_core (7.3, intel-iommu) on iovalab's mlx5 function: probe with no failed
 * command and no error, then rmmod with every page the driver lent given back. One boot.
 * mlx5_ib stays out (blacklisted) until the device answers the IB-port commands.
 */
class Mlx5GuestTest {

    /** Lines that mean a failed command or a failed probe step: err level and above, for mlx5. */
    static final String ERRORS = "dmesg --level=emerg,alert,crit,err | grep -i mlx5 || true";

    @Test
    void mlx5_core_probes_with_no_failed_command_and_rmmod_returns_every_page(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mlx5.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("mlx5")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).kernelArgs("modprobe.blacklist=mlx5_core,mlx5_ib").start()) {
            // the blacklist keeps coldplug away, so the failure tracepoint is on before the first command
            ExecResult probe = g.run("""
                    set -e
                    echo 'mlx5:mlx5_cmd:mod:mlx5_core' > /sys/kernel/tracing/set_event
                    modprobe mlx5_core
                    echo "BOUND $(ls /sys/bus/pci/drivers/mlx5_core | grep -c '^0000:')"
                    echo "EVENTS $(cat /sys/kernel/tracing/set_event | tr '\\n' ' ')"
                    echo "FW $(cat /sys/bus/pci/devices/*/fw_version 2>/dev/null; devlink dev info 2>/dev/null | grep -m1 fw || true)"
                    echo TRACE; grep 'mlx5_cmd:' /sys/kernel/tracing/trace || true
                    echo ERRORS; %s
                    echo END
                    """.formatted(ERRORS), Duration.ofSeconds(300)).requireSuccess("modprobe mlx5_core");
            String out = probe.stdout();
            Map<String, Object> loaded = server.device().inspect();
            System.out.println("mlx5 probe commands:\n  " + String.join("\n  ", commandLog(loaded)));
            assertTrue(out.contains("BOUND 1"), "mlx5_core bound the function:\n" + out);
            assertTrue(out.contains("mlx5:mlx5_cmd"), "the mlx5_cmd tracepoint was on during the probe:\n" + out);
            assertEquals("", section(out, "TRACE", "ERRORS"), "failed commands in the mlx5_cmd tracepoint");
            assertEquals("", section(out, "ERRORS", "END"), "mlx5 errors in dmesg");
            assertEquals("INITIALIZED", loaded.get("hcaState"), loaded.toString());
            assertEquals(0L, loaded.get("commandsFailed"), "device-side failed commands: " + commandLog(loaded));
            assertEquals(0L, loaded.get("deliveryErrors"), loaded.toString());
            assertTrue((Long) loaded.get("pagesHeld") > 0, "the driver gave the firmware pages: " + loaded);
            assertTrue((Long) loaded.get("cmdEqes") > 0, "commands completed through the command EQ: " + loaded);

            ExecResult unload = g.run("""
                    set -e
                    rmmod mlx5_core
                    echo TRACE; grep 'mlx5_cmd:' /sys/kernel/tracing/trace || true
                    echo ERRORS; %s
                    echo END
                    """.formatted(ERRORS), Duration.ofSeconds(300)).requireSuccess("rmmod mlx5_core");
            String out2 = unload.stdout();
            Map<String, Object> gone = server.device().inspect();
            System.out.println("mlx5 commands, probe and rmmod:\n  " + String.join("\n  ", commandLog(gone)));
            System.out.println("mlx5 after rmmod: pagesGiven=" + gone.get("pagesGiven") + " pagesReturned="
                    + gone.get("pagesReturned") + " commands=" + gone.get("commands") + " cmdEqes=" + gone.get("cmdEqes"));
            assertEquals("", section(out2, "TRACE", "ERRORS"), "failed commands during rmmod");
            assertEquals("", section(out2, "ERRORS", "END"), "mlx5 errors in dmesg during rmmod");
            assertEquals("DISABLED", gone.get("hcaState"), gone.toString());
            assertEquals(0L, gone.get("commandsFailed"), "device-side failed commands: " + commandLog(gone));
            assertEquals(0L, gone.get("pagesHeld"), gone.toString());
            assertEquals(gone.get("pagesGiven"), gone.get("pagesReturned"), gone.toString());
            assertEquals(0L, gone.get("faults"), gone.toString());
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }

    @SuppressWarnings("unchecked")
    static List<String> commandLog(Map<String, Object> inspect) {
        return (List<String>) inspect.get("commandLog");
    }

    static String section(String out, String from, String to) {
        int a = out.indexOf(from + "\n");
        int b = out.indexOf("\n" + to, a);
        assertTrue(a >= 0 && b >= a, "markers " + from + "/" + to + " in:\n" + out);
        return out.substring(a + from.length() + 1, b + 1).strip();
    }
}
