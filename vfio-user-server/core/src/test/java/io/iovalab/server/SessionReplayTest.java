package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.recording.Entry;
import io.iovalab.recording.Recording;
import io.iovalab.recording.RecordingReader;
import io.iovalab.recording.RecordingWriter;
import io.iovalab.wire.Command;
import io.iovalab.wire.Message.DmaMap;
import io.iovalab.wire.Message.DmaUnmap;
import org.junit.jupiter.api.Test;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.iovalab.server.ServerEndToEndTest.*;
import static io.iovalab.wire.Message.*;
import static org.junit.jupiter.api.Assertions.*;

/** Record a session of the example device, replay it without a client, compare the device-side traces. */
class SessionReplayTest {

    /** Copies whose source the "guest" rewrites between copies, without any message: only recorded reads can replay them. */
    private static Path record(TestServer s) throws Exception {
        Path file = Files.createTempFile("session", ".rec");
        s.server.recordNextSession(file);
        try (GuestRam ram = new GuestRam(1 << 21); VfioUserClient c = s.connect()) {
            c.version();
            c.call(Command.DMA_MAP, new DmaMap(32, VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE, 0,
                    RAM_IOVA, 1 << 21), ram.fd);
            Fd irq = enableMsix(c);
            for (int i = 0; i < 4; i++) {
                ram.mem.set(ValueLayout.JAVA_INT, 0, 0x1000 * (i + 1)); // the source changes between copies, unannounced
                copy(c, RAM_IOVA, RAM_IOVA + 0x10000 + 0x1000L * i, 256 + i);
                awaitIrq(irq);
            }
            c.call(Command.DMA_UNMAP, new DmaUnmap(24, 0, RAM_IOVA, 1 << 21));
            irq.close();
        }
        s.close(); // ends the session: the recording is complete
        return file;
    }

    @Test
    void a_recorded_session_replays_to_the_same_trace() throws Exception {
        TestServer s = new TestServer("dmacopy:vectors=4");
        Path file0 = record(s);
        Recording rec = RecordingReader.read(file0);
        Files.delete(file0);

        SessionReplayer.Result r = SessionReplayer.replay(rec, null, DeviceRegistry.system(), 10_000);

        assertNull(r.difference(), r.difference());
        assertEquals(0, r.missedReads(), "every device read found its recorded bytes");
        assertTrue(r.servedReads() >= 4, "the copies' source reads came from the recording: " + r.servedReads());
        List<String> reads = r.replayed().stream().filter(t -> t.kind().equals("READ")).map(Entry.TraceEntry::detail).toList();
        assertEquals(List.of("0x100000+256", "0x100000+257", "0x100000+258", "0x100000+259"), reads);
        assertTrue(r.replayed().stream().anyMatch(t -> t.kind().equals("UNMAP")), "the DMA_UNMAP was replayed");
    }

    @Test
    void a_replay_that_diverges_is_reported_with_the_first_difference() throws Exception {
        TestServer s = new TestServer("dmacopy:vectors=4");
        Path file0 = record(s);
        Recording rec = RecordingReader.read(file0);
        Files.delete(file0);
        // as if the device had once copied one byte more than it does now
        List<Entry> tampered = new ArrayList<>();
        boolean done = false;
        for (Entry e : rec.entries()) {
            if (!done && e instanceof Entry.TraceEntry t && t.kind().equals("READ")) {
                e = new Entry.TraceEntry(t.queue(), t.commandId(), t.kind(), "0x100000+999");
                done = true;
            }
            tampered.add(e);
        }
        Path file = Files.createTempFile("tampered", ".rec");
        try (RecordingWriter w = RecordingWriter.create(file, rec.header())) {
            for (Entry e : tampered) {
                w.write(e);
            }
        }
        SessionReplayer.Result r = SessionReplayer.replay(RecordingReader.read(file), null, DeviceRegistry.system(), 10_000);
        Files.delete(file);

        assertFalse(r.identical());
        assertTrue(r.difference().contains("recorded: READ") && r.difference().contains("0x100000+999")
                && r.difference().contains("replayed: READ") && r.difference().contains("0x100000+256"), r.difference());
    }
}
