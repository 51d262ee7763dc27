package io.iovalab.recording;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class RecordingFormatTest {
    private static final RecordingHeader HEADER = new RecordingHeader("nvme:size=64M,queues=2", "nvme0", 16, 1 << 20, 1 << 20);

    private static final List<Entry> ENTRIES = List.of(
            new Entry.ClientFrame(new byte[]{2, 0, 2, 0, 48, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
                    List.of(new Entry.FdInfo(Entry.FdInfo.FILE, 0, 1L << 30), new Entry.FdInfo(Entry.FdInfo.OTHER, -1, 0))),
            new Entry.ServerFrame(new byte[]{2, 0, 2, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, true),
            new Entry.GuestRead(1, -1, 0xfffff000L, new byte[]{1, 2, 3, 4}),
            new Entry.TraceEntry(1, 7, "COMMAND", "opcode=0x01 name=WRITE slba=8 nlb=1"),
            new Entry.End("client disconnected"));

    private static byte[] recording() throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (RecordingWriter w = new RecordingWriter(out, HEADER)) {
            for (Entry e : ENTRIES) {
                w.write(e);
            }
        }
        return out.toByteArray();
    }

    @Test
    void every_record_kind_reads_back_as_written() throws Exception {
        Recording r = RecordingReader.read(recording(), "t");
        assertEquals(HEADER, r.header());
        assertEquals(ENTRIES.size(), r.entries().size());
        for (int i = 0; i < ENTRIES.size(); i++) {
            Entry want = ENTRIES.get(i);
            Entry got = r.entries().get(i);
            switch (want) {
                case Entry.ClientFrame f -> {
                    assertArrayEquals(f.frame(), ((Entry.ClientFrame) got).frame());
                    assertEquals(f.fds(), ((Entry.ClientFrame) got).fds());
                }
                case Entry.ServerFrame f -> {
                    assertArrayEquals(f.frame(), ((Entry.ServerFrame) got).frame());
                    assertTrue(((Entry.ServerFrame) got).withFd());
                }
                case Entry.GuestRead g -> {
                    Entry.GuestRead x = (Entry.GuestRead) got;
                    assertEquals(List.of(g.queue(), g.commandId(), g.iova()), List.of(x.queue(), x.commandId(), x.iova()));
                    assertArrayEquals(g.data(), x.data());
                }
                default -> assertEquals(want, got);
            }
        }
    }

    @Test
    void a_file_cut_short_is_reported_as_such() throws Exception {
        byte[] full = recording();
        for (int cut : new int[]{full.length - 1, full.length - 30, 40}) {
            RecordingException e = assertThrows(RecordingException.class,
                    () -> RecordingReader.read(Arrays.copyOf(full, cut), "cut.rec"));
            assertTrue(e.getMessage().startsWith("cut.rec") && e.getMessage().matches("(?s).*(truncated|cut short).*"),
                    e.getMessage());
        }
    }

    @Test
    void a_flipped_byte_is_a_checksum_error_naming_the_record() throws Exception {
        byte[] b = recording();
        b[b.length - 12] ^= 0x40; // inside the END record's reason
        RecordingException e = assertThrows(RecordingException.class, () -> RecordingReader.read(b, "bad.rec"));
        assertTrue(e.getMessage().contains("record 4") && e.getMessage().contains("checksum"), e.getMessage());
    }

    @Test
    void other_files_and_other_versions_are_refused_plainly() throws Exception {
        RecordingException notOne = assertThrows(RecordingException.class,
                () -> RecordingReader.read("hello world, not a recording".getBytes(), "x.txt"));
        assertTrue(notOne.getMessage().contains("not an iovalab session recording"), notOne.getMessage());

        byte[] b = recording();
        b[9] = 9; // version u16 after the 8-byte magic
        RecordingException newer = assertThrows(RecordingException.class, () -> RecordingReader.read(b, "v.rec"));
        assertTrue(newer.getMessage().contains("version 9"), newer.getMessage());
    }
}
