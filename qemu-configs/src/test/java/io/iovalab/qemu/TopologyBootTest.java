package io.iovalab.qemu;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Boots the default guest under each topology with QEMU's own NVMe controller (not iovalab's)
 * and checks what the guest sees. Provisions QEMU and the images on first use.
 */
class TopologyBootTest {

    static Guest withQemuNvme(Path dir, String topology) throws IOException {
        Path disk = dir.resolve("disk.raw");
        try (var f = new java.io.RandomAccessFile(disk.toFile(), "rw")) {
            f.setLength(64 << 20);
        }
        return Guest.builder().topology(topology).workDir(dir.resolve("guest")).memoryMiB(1024)
                .qemuArgs("-device", "pcie-root-port,id=nvme_rp,chassis=20,slot=20",
                        "-drive", "if=none,id=nvm,file=" + disk + ",format=raw",
                        "-device", "nvme,drive=nvm,serial=iovalab-harness,bus=nvme_rp");
    }

    @ParameterizedTest
    @ValueSource(strings = {"intel-iommu", "virtio-iommu", "none"})
    void boots_under_each_topology_and_runs_a_script(String topology, @TempDir Path dir) throws Exception {
        Topology t = Topology.load(topology);
        try (GuestSession g = withQemuNvme(dir, topology).start()) {
            g.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(60), "nvme driver probe");
            ExecResult r = g.run("""
                    cat /sys/class/nvme/nvme0/serial
                    echo hello-from-the-guest > /host/note.txt
                    dd if=/dev/urandom of=/tmp/a bs=4k count=64 2>/dev/null
                    dd if=/tmp/a of=/dev/nvme0n1 bs=4k oflag=direct 2>/dev/null
                    dd if=/dev/nvme0n1 of=/tmp/b bs=4k count=64 iflag=direct 2>/dev/null
                    cmp /tmp/a /tmp/b && echo data-ok
                    for d in /sys/class/nvme/nvme0/device; do cat $(readlink -f $d)/iommu_group/type 2>/dev/null || echo no-group; done
                    """, Duration.ofSeconds(60));
            assertEquals(0, r.exitCode(), r.stderr());
            assertTrue(r.stdout().startsWith("iovalab-harness"), r.stdout());
            assertTrue(r.stdout().contains("data-ok"), r.stdout());
            assertEquals("hello-from-the-guest\n", Files.readString(g.shared().resolve("note.txt")), "files come back");
            String groupType = r.stdout().strip().lines().reduce((a, b) -> b).orElse("");
            assertEquals(t.iommuGroupType() != null ? t.iommuGroupType() : "no-group", groupType);
            assertTrue(g.kernelRelease().startsWith("7."), g.kernelRelease());
            System.out.printf("[%s] boot to runner %.1f s%n", topology, g.bootMillis() / 1000.0);

            ExecResult fail = g.run("echo to-stderr >&2; exit 7", Duration.ofSeconds(30));
            assertEquals(7, fail.exitCode());
            assertEquals("to-stderr\n", fail.stderr());
            g.close();
            assertFalse(g.process().isAlive(), "closing ends QEMU");
            String console = Files.readString(g.serialLog(), StandardCharsets.ISO_8859_1);
            assertFalse(console.contains("Kernel panic") || console.contains("/init:"),
                    "the guest powers off cleanly and its /init reports nothing:\n" + console);
        }
    }

    @Test
    void a_hanging_script_is_named_in_the_timeout(@TempDir Path dir) throws Exception {
        try (GuestSession g = Guest.builder().topology("none").workDir(dir).memoryMiB(1024).start()) {
            GuestException e = assertThrows(GuestException.class,
                    () -> g.run("# wait-forever\nsleep 600", Duration.ofSeconds(3)));
            assertTrue(e.getMessage().contains("script 0 (# wait-forever) did not finish within 3 s"), e.getMessage());
        }
    }

    @Test
    void a_boot_that_prints_nothing_is_reported_with_qemus_state_and_tried_once_more(@TempDir Path dir) throws Exception {
        // -S: QEMU waits for "cont", so the guest never runs and neither it nor QEMU prints a line;
        // vCPU 0 sits at the reset vector, the application processor waits for its INIT-SIPI (halted)
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        GuestException e;
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            e = assertThrows(GuestException.class, () -> Guest.builder().topology("none").workDir(dir).memoryMiB(1024)
                    .qemuArgs("-S").bootTimeout(Duration.ofSeconds(3)).start());
        } finally {
            System.setErr(err);
        }
        String first = captured.toString(StandardCharsets.UTF_8);
        System.err.print(first);
        assertTrue(first.contains("did not come up within 3 s") && first.contains("booting once more"), first);
        assertTrue(e.getMessage().contains("the second boot in a row that printed nothing"), e.getMessage());
        assertTrue(e.getMessage().matches("(?s).*status prelaunch; vCPU 0 EIP=0000fff0 HLT=0; vCPU 1 EIP=\\S+ HLT=1.*"),
                "QEMU's run state and where each vCPU is: " + e.getMessage());
    }

    @Test
    void boots_the_612_baseline_and_a_user_supplied_kernel(@TempDir Path dir) throws Exception {
        GuestImages images = new GuestImages(Cache.standard(), Progress.to(System.err));
        GuestImage baseline = images.baselineImage();
        assertTrue(baseline.kernelVersion().startsWith("6.12"), baseline.kernelVersion());
        try (GuestSession g = Guest.builder().image("baseline").topology("intel-iommu").workDir(dir.resolve("b"))
                .memoryMiB(1024).start()) {
            assertTrue(g.kernelRelease().startsWith("6.12"), g.kernelRelease());
            assertEquals(0, g.run("grep -q intel_iommu=on /proc/cmdline", Duration.ofSeconds(30)).exitCode());
        }
        // a user kernel: a bzImage and a modules tree in arbitrary places, as a developer passes them
        Path user = dir.resolve("user");
        Path modules = user.resolve("mods/lib/modules/" + baseline.kernelVersion());
        Files.createDirectories(modules.getParent());
        Path kernelModules = Cache.standard().entry("kernel-trixie", "kernel trixie v1")
                .resolve("root/usr/lib/modules/" + baseline.kernelVersion());
        new ProcessBuilder("cp", "-a", kernelModules.toString(), modules.toString()).inheritIO().start().waitFor();
        Path bz = user.resolve("bzImage");
        Files.copy(baseline.kernel(), bz);
        try (GuestSession g = Guest.builder().userKernel(bz, user.resolve("mods")).topology("none")
                .workDir(dir.resolve("u")).memoryMiB(1024).start()) {
            assertEquals(baseline.kernelVersion(), g.kernelRelease());
            ExecResult r = g.run("modprobe nvme && echo loaded", Duration.ofSeconds(30));
            assertEquals("loaded\n", r.stdout(), r.stderr());
        }
    }
}
