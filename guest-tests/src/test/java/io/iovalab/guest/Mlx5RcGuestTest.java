package io.iovalab.guest;

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

import static io.iovalab.guest.Mlx5GuestTest.assertClean;
import static io.iovalab.guest.Mlx5GuestTest.section;
import static io.iovalab.guest.Mlx5OdpGuestTest.brief;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Real verbs traffic on iovalab's mlx5 function (issue 9), in one boot of the 7.3 guest behind
 * intel-iommu: two processes in the guest connect RC QPs of mlx5_0 to each other over the
 * port's own LID (QP numbers exchanged over TCP on 127.0.0.1) and the device carries the data
 * between them. ibv_rc_pingpong with pinned MRs, with completion events (-e: CQ arm → EQE →
 * MSI-X), and with ODP MRs prefetched (-o -P); every message checked by the program, every byte
 * moved by the device counted, no failed command, no IOMMU fault.
 */
class Mlx5RcGuestTest {

    /** The guest has no ip(8): lo up by SIOCGIFFLAGS / SIOCSIFFLAGS (the kernel gives it 127.0.0.1 itself). */
    static final String LO_UP = """
            python3 - <<'EOF'
            import fcntl, socket, struct
            s = socket.socket()
            f = struct.unpack('16sH14s', fcntl.ioctl(s, 0x8913, struct.pack('16sH14s', b'lo', 0, b'')))[1]
            fcntl.ioctl(s, 0x8914, struct.pack('16sH14s', b'lo', f | 1, b''))
            EOF
            """;

    /**
     * Runs server and client of a pingpong-style tool; prints SERVER/CLIENT sections and their exit
     * codes. Line-buffered, so what a side printed before {@code timeout} killed it is still there.
     */
    static String pair(String tool, String args, int seconds) {
        return """
                (timeout %3$d stdbuf -oL %1$s %2$s > /tmp/srv.log 2>&1; echo "SERVER_RC $?" >> /tmp/srv.log) &
                sleep 2
                timeout %3$d stdbuf -oL %1$s %2$s 127.0.0.1 > /tmp/cli.log 2>&1; echo "CLIENT_RC $?" >> /tmp/cli.log
                wait
                echo SERVER; cat /tmp/srv.log; echo CLIENT; cat /tmp/cli.log; echo DONE
                """.formatted(tool, args, seconds);
    }

    /** Both sides exited 0; if not, the message carries the device's own account (its last WQE error, its counters). */
    static void assertPair(String out, String what, VfioUserServer server) {
        assertTrue(out.contains("SERVER_RC 0") && out.contains("CLIENT_RC 0"),
                () -> what + " completed on both sides:\n" + out + "\ndevice: " + brief(server.device().inspect()));
    }

    @Test
    void ibv_rc_pingpong_runs_between_two_processes_over_the_emulated_function(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mlx5.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("mlx5")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).kernelArgs("modprobe.blacklist=mlx5_core,mlx5_ib").start()) {
            String out = g.run(Mlx5GuestTest.ARM_TRACE + "\nset -e\n" + LO_UP + "modprobe mlx5_ib\nmodprobe ib_uverbs\n"
                    + "echo \"IBDEV $(ls /sys/class/infiniband)\"\n"
                    + "echo PORT; ibv_devinfo -d mlx5_0 | grep -E 'state|port_lid'\nset +e\n"
                    + "echo PINGPONG\n" + pair("ibv_rc_pingpong", "-d mlx5_0 -n 200", 120)
                    + Mlx5GuestTest.EVENTS + Mlx5GuestTest.REPORT, Duration.ofSeconds(300)).requireSuccess("pingpong").stdout();
            System.out.println(out);
            Map<String, Object> dev = server.device().inspect();
            System.out.println("device after ibv_rc_pingpong: " + brief(dev));
            assertTrue(out.contains("IBDEV mlx5_0"), out);
            String port = section(out, "PORT", "PINGPONG");
            assertTrue(port.contains("PORT_ACTIVE") && port.matches("(?s).*port_lid:\\s+1\\b.*"), "port active with LID 1:\n" + port);
            assertPair(section(out, "PINGPONG", "EVENTS"), "ibv_rc_pingpong", server);
            assertTrue(out.matches("(?s).*200 iters in.*"), "both sides report the 200 iterations:\n" + out);
            assertClean(out, "ibv_rc_pingpong");
            assertTrue((Long) dev.get("sends") >= 400, "the device carried the 2 x 200 messages: " + brief(dev));
            assertTrue((Long) dev.get("bytesMoved") >= 400L * 4096, brief(dev));
            assertEquals(0L, dev.get("wqeErrors"), "no WQE failed: " + dev.get("lastWqeError"));

            out = g.run(Mlx5GuestTest.ARM_TRACE + "\necho EVENTS_PP\n" + pair("ibv_rc_pingpong", "-d mlx5_0 -n 100 -e", 120)
                    + "echo ODP_PP\n" + pair("ibv_rc_pingpong", "-d mlx5_0 -n 100 -o -P", 120)
                    + Mlx5GuestTest.EVENTS + Mlx5GuestTest.REPORT, Duration.ofSeconds(300)).requireSuccess("pingpong -e, -o -P").stdout();
            System.out.println(out);
            dev = server.device().inspect();
            System.out.println("device after -e and -o -P: " + brief(dev));
            assertPair(section(out, "EVENTS_PP", "ODP_PP"), "ibv_rc_pingpong -e (completion events)", server);
            assertPair(section(out, "ODP_PP", "EVENTS"), "ibv_rc_pingpong -o -P (ODP MRs, prefetched)", server);
            assertClean(out, "ibv_rc_pingpong -e / -o -P");
            assertEquals(0L, dev.get("wqeErrors"), "no WQE failed: " + dev.get("lastWqeError"));
            assertEquals(0L, dev.get("commandsFailed"), "device-side failed commands");
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }

    /** perftest's bandwidth tools, loopback over the device, pinned and ODP MRs: the figures go to the report. */
    @Test
    void perftest_write_read_and_send_bandwidth_run_in_loopback_with_and_without_odp(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mlx5.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("mlx5")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).kernelArgs("modprobe.blacklist=mlx5_core,mlx5_ib").start()) {
            g.run("set -e\n" + LO_UP + "modprobe mlx5_ib\nmodprobe ib_uverbs\n", Duration.ofSeconds(120)).requireSuccess("modprobe");
            // one unmeasured run first: the device's data path is then JIT-compiled for all six
            g.run(pair("ib_write_bw", "-d mlx5_0 -F -s 65536 -n 200", 150), Duration.ofSeconds(300));
            java.util.List<String> figures = new java.util.ArrayList<>();
            java.util.List<String> failures = new java.util.ArrayList<>();
            for (String tool : java.util.List.of("ib_write_bw", "ib_read_bw", "ib_send_bw")) {
                for (String odp : java.util.List.of("", " --odp")) {
                    long before = (Long) server.device().inspect().get("bytesMoved");
                    String out = g.run(Mlx5GuestTest.ARM_TRACE + "\n" + pair(tool, "-d mlx5_0 -F -s 65536 -n 200" + odp, 150)
                            + Mlx5GuestTest.EVENTS + Mlx5GuestTest.REPORT, Duration.ofSeconds(300)).stdout();
                    System.out.println("==== " + tool + odp + "\n" + out);
                    Map<String, Object> dev = server.device().inspect();
                    long moved = (Long) dev.get("bytesMoved") - before;
                    String line = out.lines().map(String::strip).filter(l -> l.matches("65536\\s+200\\s+.*")).findFirst().orElse("");
                    figures.add("%-12s %-6s %s   (device moved %d bytes)".formatted(tool, odp.isEmpty() ? "pinned" : "odp", line, moved));
                    if (!out.contains("SERVER_RC 0") || !out.contains("CLIENT_RC 0") || line.isEmpty()) {
                        failures.add(tool + odp + ": " + section(out, "SERVER", "DONE") + "\ndevice: " + brief(dev));
                    }
                }
            }
            System.out.println("perftest loopback under TCG, 65536-byte messages x 200 (#bytes #iterations BW peak[MB/sec] BW average[MB/sec] MsgRate[Mpps]):");
            figures.forEach(f -> System.out.println("  " + f));
            assertEquals(java.util.List.of(), failures, "every perftest run completed");
            Map<String, Object> dev = server.device().inspect();
            assertEquals(0L, dev.get("commandsFailed"), "device-side failed commands");
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }

    /**
     * Acceptance 3 and ODP without prefetch: a bad rkey and an out-of-range access end in error
     * completions with the QPs in ERR and the work behind them flushed, while other QPs of the
     * device keep working. ODP MRs over pages the device has not seen: the device raises page
     * faults (requester and responder side) and the send completes after PAGE_FAULT_RESUME;
     * ibv_rc_pingpong -o without prefetch (its buffer is touched before registration, so the
     * registration's snapshot already maps it).
     */
    @Test
    void bad_rkeys_and_out_of_range_accesses_fail_their_qps_only_and_odp_runs_on_page_faults(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("mlx5.sock");
        try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse("mlx5")),
                DeviceRegistry.system());
             GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                     .memoryMiB(1024).kernelArgs("modprobe.blacklist=mlx5_core,mlx5_ib").start()) {
            try (var in = Mlx5RcGuestTest.class.getResourceAsStream("rc-errors.py")) {
                java.nio.file.Files.write(g.shared().resolve("rc-errors.py"), in.readAllBytes());
            }
            String out = g.run(Mlx5GuestTest.ARM_TRACE + "\nset -e\n" + LO_UP + "modprobe mlx5_ib\nmodprobe ib_uverbs\nset +e\n"
                    + "echo ERRORS_PY; timeout 120 python3 /host/rc-errors.py 2>&1\n"
                    + "echo ODP_FAULT_PP\n" + pair("ibv_rc_pingpong", "-d mlx5_0 -n 50 -o", 150)
                    + Mlx5GuestTest.EVENTS + Mlx5GuestTest.REPORT, Duration.ofSeconds(400)).requireSuccess("errors").stdout();
            System.out.println(out);
            Map<String, Object> dev = server.device().inspect();
            System.out.println("device after the error checks and -o: " + brief(dev));
            String py = section(out, "ERRORS_PY", "ODP_FAULT_PP");
            // enum ibv_wc_status: 10 IBV_WC_REM_ACCESS_ERR, 5 IBV_WC_WR_FLUSH_ERR; enum ibv_qp_state: 6 IBV_QPS_ERR, 3 RTS
            assertTrue(py.contains("BADRKEY first=1/10 second=2/5 responder=70/5 states=6,6"),
                    "bad rkey: remote access error, the send behind it and the responder's receive flushed, both QPs in ERR:\n" + py);
            assertTrue(py.contains("RANGE status=10 states=6,6"), "out of the MR's range: remote access error:\n" + py);
            assertTrue(py.contains("OTHERS send=0 write=0 recv=80/0 bytes=16 data=IOVALAB-RC-04242,IOVALAB-RC-04242 states=3,3"),
                    "a third pair of QPs works after the errors:\n" + py);
            assertTrue(py.contains("ODPFAULT send=0 recv=0 bytes=16384 same=True"),
                    "ODP MRs the device has not seen: the send completes on page faults, byte for byte:\n" + py);
            assertTrue(py.contains("DONE"), py);
            assertPair(section(out, "ODP_FAULT_PP", "EVENTS"), "ibv_rc_pingpong -o (ODP, no prefetch)", server);
            assertTrue((Long) dev.get("pageFaults") >= 2, "the device raised page faults on both sides: " + brief(dev));
            assertEquals(dev.get("pageFaults"), dev.get("pageFaultsResumed"), "every fault resumed");
            assertEquals(0L, dev.get("pageFaultsFailed"), brief(dev));
            assertClean(out, "error checks and ODP page faults");
            assertEquals(0L, dev.get("commandsFailed"), "device-side failed commands");
            assertEquals(0L, dev.get("internalErrors"), "the device survived: " + dev.get("lastInternalError"));
            assertEquals(0, server.iovaSpace().statistics().faults(), "IOMMU faults");
        }
    }
}
