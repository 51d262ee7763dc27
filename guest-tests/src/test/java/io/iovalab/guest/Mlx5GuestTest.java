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
 * The guest's own mlx5 drivers (7.3, intel-iommu) on iovalab's mlx5 function, in one boot:
 * (a) mlx5_core alone probes with no failed command and no error, and rmmod gives back every
 * page it lent; (b) mlx5_ib registers mlx5_0, which ibv_devinfo lists with the configured port
 * state, a verbs program creates and destroys a PD, MR, CQ and QP, and modprobe/rmmod works
 * three times in a row; in between, unbind / function-level reset / bind three times — every
 * command answered OK, every page returned each time.
 */
class Mlx5GuestTest {

    /** Lines that mean a failed command or a failed probe step: err level and above, for mlx5. */
    static final String ERRORS = "dmesg --level=emerg,alert,crit,err | grep -iE 'mlx5|infiniband' || true";
    /** The failure tracepoint (mlx5_cmd fires only for failed commands), armed for the module's next load. */
    static final String ARM_TRACE = "echo 'mlx5:mlx5_cmd:mod:mlx5_core' >> /sys/kernel/tracing/set_event";
    /** Which events are on, printed while mlx5_core is loaded (its events go away with it). */
    static final String EVENTS = "echo \"EVENTS $(cat /sys/kernel/tracing/set_event | tr '\\n' ' ')\"\n";
    static final String REPORT = """
            echo TRACE; grep 'mlx5_cmd:' /sys/kernel/tracing/trace || true
            echo ERRORS; %s
            echo END
            """.formatted(ERRORS);

    @Test
    void mlx5_core_probes_and_unloads_cleanly_and_mlx5_ib_registers_mlx5_0(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mlx5.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("mlx5:port=down")),
                DeviceRegistry.system());
             // the blacklist keeps coldplug away, so the failure tracepoint is armed before the first command
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).kernelArgs("modprobe.blacklist=mlx5_core,mlx5_ib").start()) {
            // ---- (a) mlx5_core alone
            String out = g.run(ARM_TRACE + "\nset -e\nmodprobe mlx5_core\n"
                    + "echo \"BOUND $(ls /sys/bus/pci/drivers/mlx5_core | grep -c '^0000:')\"\n" + EVENTS + REPORT,
                    Duration.ofSeconds(300)).requireSuccess("modprobe mlx5_core").stdout();
            Map<String, Object> loaded = server.device().inspect();
            System.out.println("mlx5_core probe, device side:\n  " + String.join("\n  ", commandLog(loaded)));
            assertTrue(out.contains("BOUND 1"), "mlx5_core bound the function:\n" + out);
            assertClean(out, "mlx5_core probe");
            assertEquals("INITIALIZED", loaded.get("hcaState"), loaded.toString());
            assertEquals(0L, loaded.get("commandsFailed"), "device-side failed commands: " + commandLog(loaded));
            assertEquals(0L, loaded.get("deliveryErrors"), loaded.toString());
            assertTrue((Long) loaded.get("pagesHeld") > 0, "the driver gave the firmware pages: " + loaded);
            assertTrue((Long) loaded.get("cmdEqes") > 0, "commands completed through the command EQ: " + loaded);

            out = g.run("set -e\n" + EVENTS + "rmmod mlx5_core\n" + REPORT, Duration.ofSeconds(300)).requireSuccess("rmmod mlx5_core").stdout();
            assertClean(out, "rmmod mlx5_core");
            Map<String, Object> gone = server.device().inspect();
            int coreCommands = commandLog(gone).size();
            System.out.println("mlx5_core rmmod, device side:\n  "
                    + String.join("\n  ", commandLog(gone).subList(commandLog(loaded).size(), coreCommands)));
            assertAllPagesBack(gone);

            // ---- a device reset three times in a row: unbind, function-level reset, bind
            out = g.run(ARM_TRACE + """

                    set -e
                    modprobe mlx5_core
                    B=$(basename $(ls -d /sys/bus/pci/drivers/mlx5_core/0000:*))
                    for i in 1 2 3; do
                      echo $B > /sys/bus/pci/drivers/mlx5_core/unbind
                      echo 1 > /sys/bus/pci/devices/$B/reset
                      echo $B > /sys/bus/pci/drivers/mlx5_core/bind
                      echo "REBOUND $i $(ls /sys/bus/pci/drivers/mlx5_core | grep -c '^0000:')"
                    done
                    """ + EVENTS + "rmmod mlx5_core\n" + REPORT, Duration.ofSeconds(300)).requireSuccess("reset cycles").stdout();
            assertTrue(out.contains("REBOUND 3 1"), "bound again after the third reset:\n" + out);
            assertClean(out, "reset cycles");
            Map<String, Object> reset = server.device().inspect();
            assertAllPagesBack(reset);
            assertEquals(0L, reset.get("pagesDroppedByReset"), "the driver took its pages back before each reset");
            @SuppressWarnings("unchecked")
            Map<String, Long> resets = (Map<String, Long>) reset.get("resets");
            assertTrue(resets.values().stream().mapToLong(Long::longValue).sum() >= 3, "the device saw the resets: " + resets);
            coreCommands = commandLog(reset).size();

            // ---- (b) mlx5_ib: three load/unload cycles, the first one exercised from user space
            for (int cycle = 1; cycle <= 3; cycle++) {
                String verbs = cycle > 1 ? "" : """
                        ibv_devices
                        ibv_devinfo -v -d mlx5_0
                        # a verbs program: context, PD, MR, CQ, QP to INIT; with LID 0 (port down) it stops
                        # before connecting, and exit destroys what it made
                        echo PINGPONG; ibv_rc_pingpong -d mlx5_0 -g 0 -n 1 2>&1 || true
                        """;
                out = g.run(ARM_TRACE + "\nset -e\nmodprobe mlx5_ib\nmodprobe ib_uverbs\n"
                        + "echo \"IBDEV $(ls /sys/class/infiniband)\"\n" + verbs + EVENTS + "rmmod mlx5_ib mlx5_core\n" + REPORT,
                        Duration.ofSeconds(300)).requireSuccess("mlx5_ib cycle " + cycle).stdout();
                assertTrue(out.contains("IBDEV mlx5_0"), "mlx5_ib registered mlx5_0 (cycle " + cycle + "):\n" + out);
                assertClean(out, "mlx5_ib cycle " + cycle);
                if (cycle == 1) {
                    assertTrue(out.matches("(?s).*mlx5_0\\s+0002c90300000a10.*"), "ibv_devices lists the node GUID:\n" + out);
                    assertTrue(out.matches("(?s).*state:\\s+PORT_DOWN \\(1\\).*"), "configured port state:\n" + out);
                    assertTrue(out.matches("(?s).*board_id:\\s+IOVALAB000000001.*"), out);
                    assertTrue(out.matches("(?s).*phys_port_cnt:\\s+1\\s.*"), out);
                    String pp = section(out, "PINGPONG", "EVENTS");
                    assertTrue(pp.contains("Couldn't get local LID"),
                            "the verbs program got past PD/MR/CQ/QP creation and stopped at the LID:\n" + pp);
                    List<String> ibLog = commandLog(server.device().inspect()).subList(coreCommands, commandLog(
                            server.device().inspect()).size());
                    for (String op : List.of("ALLOC_PD", "CREATE_MKEY", "CREATE_CQ", "CREATE_QP", "RST2INIT_QP",
                            "DESTROY_QP", "DESTROY_CQ", "DESTROY_MKEY", "DEALLOC_PD")) {
                        assertTrue(ibLog.stream().anyMatch(l -> l.startsWith(op + "(")), op + " in " + ibLog);
                    }
                    System.out.println("mlx5_ib load, verbs program, unload, device side:\n  " + String.join("\n  ", ibLog));
                }
                Map<String, Object> after = server.device().inspect();
                assertAllPagesBack(after);
                assertEquals(0L, after.get("openObjects"), "every PD/CQ/QP/mkey/SRQ destroyed: " + after);
            }
            Map<String, Object> end = server.device().inspect();
            System.out.println("mlx5 totals: commands=" + end.get("commands") + " pagesGiven=" + end.get("pagesGiven")
                    + " pagesReturned=" + end.get("pagesReturned") + " cmdEqes=" + end.get("cmdEqes"));
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }

    static void assertClean(String out, String what) {
        assertTrue(out.contains("mlx5:mlx5_cmd"), "the mlx5_cmd tracepoint was on during " + what + ":\n" + out);
        assertEquals("", section(out, "TRACE", "ERRORS"), "failed commands in the mlx5_cmd tracepoint during " + what);
        assertEquals("", section(out, "ERRORS", "END"), "mlx5 errors in dmesg during " + what);
    }

    static void assertAllPagesBack(Map<String, Object> m) {
        assertEquals("DISABLED", m.get("hcaState"), m.toString());
        assertEquals(0L, m.get("commandsFailed"), "device-side failed commands: " + commandLog(m));
        assertEquals(0L, m.get("deliveryErrors"), m.toString());
        assertEquals(0L, m.get("pagesHeld"), m.toString());
        assertEquals(m.get("pagesGiven"), m.get("pagesReturned"), m.toString());
        assertEquals(0L, m.get("faults"), m.toString());
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
