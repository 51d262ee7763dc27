package io.iovalab.guest;

import io.iovalab.cli.Main;
import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.Guest;
import io.iovalab.qemu.GuestSession;
import io.iovalab.recording.DeviceSideTrace;
import io.iovalab.recording.Entry;
import io.iovalab.recording.Recording;
import io.iovalab.recording.RecordingReader;
import io.iovalab.server.VfioUserServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 10, acceptance 2: a recorded session of a guest fio run (behind intel-iommu, two I/O
 * queues) replays without QEMU to the same device-side trace. Shadow doorbells are off here: with
 * them on, a replay on a loaded machine can still fall behind the recording (RECORDING.md, "Limits").
 */
class SessionReplayGuestTest {

    @Test
    void a_recorded_fio_session_replays_to_the_same_device_side_trace(@TempDir Path dir) throws Exception {
        Path socket = dir.resolve("nvme.sock");
        Path recording = dir.resolve("session.iovarec");
        try (VfioUserServer server = NvmeGuestTest.nvme(socket, "size=64M,queues=2,dbbuf=off")) {
            server.recordNextSession(recording);
            try (GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).workDir(dir.resolve("guest"))
                    .memoryMiB(1024).start()) {
                g.waitFor("test -b /dev/nvme0n1", Duration.ofSeconds(90), "nvme driver probe");
                ExecResult fio = g.run("fio --name=rec --filename=/dev/nvme0n1 --direct=1 --ioengine=libaio --rw=randwrite"
                        + " --bs=4k --iodepth=8 --size=2M --verify=crc32c --do_verify=1 --verify_fatal=1", Duration.ofSeconds(120));
                fio.requireSuccess("fio randwrite + verify while recording");
            }
        } // closing the server ends the session if QEMU's exit has not yet: the recording is complete now

        Path replayed = dir.resolve("replayed.trace");
        Path recordedOut = dir.resolve("recorded.trace");
        long t0 = System.nanoTime();
        int exit = Main.run("replay", recording.toString(), "--trace-out", replayed.toString(), "--recorded-trace-out",
                recordedOut.toString(), "--gate-timeout", "3000");
        System.out.printf("recording %d bytes, replay took %d ms%n", Files.size(recording), (System.nanoTime() - t0) / 1_000_000);
        assertEquals(0, exit, "replay reproduces the recorded device-side trace");
        assertEquals(Files.readAllLines(recordedOut), Files.readAllLines(replayed));

        // non-trivial: fio's 512 writes and 512 verify reads are in it, on the I/O queues, with their data DMA
        Recording rec = RecordingReader.read(recording);
        List<Entry.TraceEntry> trace = rec.entries().stream().filter(e -> e instanceof Entry.TraceEntry)
                .map(e -> (Entry.TraceEntry) e).toList();
        Map<Integer, List<String>> byQueue = DeviceSideTrace.normalize(trace);
        long writes = byQueue.entrySet().stream().filter(q -> q.getKey() > 0).flatMap(q -> q.getValue().stream())
                .filter(l -> l.startsWith("COMMAND") && l.contains("name=WRITE ")).count();
        long reads = byQueue.entrySet().stream().filter(q -> q.getKey() > 0).flatMap(q -> q.getValue().stream())
                .filter(l -> l.startsWith("COMMAND") && l.contains("name=READ ")).count();
        long dmaReads = byQueue.entrySet().stream().filter(q -> q.getKey() > 0).flatMap(q -> q.getValue().stream())
                .filter(l -> l.startsWith("READ ")).count();
        assertTrue(writes >= 512, "fio's 4k writes of 2 MiB in the trace: " + writes);
        assertTrue(reads >= 512, "fio's verify reads in the trace: " + reads);
        assertTrue(dmaReads >= 512, "the writes' data DMA in the trace: " + dmaReads);
        assertTrue(byQueue.get(-1).size() > 100, "the DMA_MAP/UNMAP sequence of the guest's IOMMU mappings");
    }
}
