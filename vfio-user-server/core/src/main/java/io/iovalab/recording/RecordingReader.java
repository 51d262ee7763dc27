package io.iovalab.recording;

import java.io.IOException;
import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.CRC32;

/** Reads a recording, checking every record; any flaw is a {@link RecordingException} naming where it is. */
public final class RecordingReader {
    private RecordingReader() {
    }

    public static Recording read(Path file) throws IOException {
        return read(Files.readAllBytes(file), file.toString());
    }

    public static Recording read(byte[] bytes, String name) throws RecordingException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        if (bytes.length < Recording.MAGIC.length
                || !Arrays.equals(bytes, 0, Recording.MAGIC.length, Recording.MAGIC, 0, Recording.MAGIC.length)) {
            throw new RecordingException(name + " is not an iovalab session recording (no IOVAREC magic)");
        }
        b.position(Recording.MAGIC.length);
        if (b.remaining() < 8) {
            throw new RecordingException(name + ": truncated in the header");
        }
        int version = b.getShort() & 0xffff;
        if (version != Recording.VERSION) {
            throw new RecordingException(name + ": recording format version " + version + "; this iovalab reads version "
                    + Recording.VERSION);
        }
        b.getShort();
        int hlen = b.getInt();
        if (hlen < 0 || hlen > b.remaining() - 4) {
            throw new RecordingException(name + ": truncated in the header");
        }
        byte[] h = new byte[hlen];
        b.get(h);
        CRC32 crc = new CRC32();
        crc.update(h);
        if (b.getInt() != (int) crc.getValue()) {
            throw new RecordingException(name + ": header checksum mismatch (damaged file)");
        }
        RecordingHeader header = RecordingHeader.decode(new String(h, StandardCharsets.UTF_8));
        List<Entry> entries = new ArrayList<>();
        boolean ended = false;
        while (b.hasRemaining()) {
            int at = b.position();
            String where = name + ": record " + entries.size() + " at byte " + at;
            if (ended) {
                throw new RecordingException(where + " follows the END record");
            }
            if (b.remaining() < 5) {
                throw new RecordingException(where + " is truncated (file cut short?)");
            }
            int kind = b.get() & 0xff;
            int len = b.getInt();
            if (len < 0 || len > b.remaining() - 4) {
                throw new RecordingException(where + " is truncated: needs " + len + " bytes, "
                        + Math.max(0, b.remaining() - 4) + " left (file cut short?)");
            }
            byte[] body = new byte[len];
            b.get(body);
            crc.reset();
            crc.update(kind);
            crc.update(body);
            if (b.getInt() != (int) crc.getValue()) {
                throw new RecordingException(where + ": checksum mismatch (damaged file)");
            }
            try {
                Entry e = decode(kind, ByteBuffer.wrap(body));
                if (e == null) {
                    throw new RecordingException(where + ": unknown record kind " + kind);
                }
                ended = e instanceof Entry.End;
                entries.add(e);
            } catch (BufferUnderflowException | IllegalArgumentException e) {
                throw new RecordingException(where + ": malformed kind-" + kind + " record");
            }
        }
        if (!ended) {
            throw new RecordingException(name + ": no END record after " + entries.size()
                    + " records (the recording was cut short; was the server killed?)");
        }
        return new Recording(header, entries);
    }

    private static Entry decode(int kind, ByteBuffer p) {
        Entry e = switch (kind) {
            case Recording.CLIENT_FRAME -> {
                int n = p.getShort() & 0xffff;
                List<Entry.FdInfo> fds = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    fds.add(new Entry.FdInfo(p.get() & 0xff, p.getInt(), p.getLong()));
                }
                yield new Entry.ClientFrame(bytes(p), fds);
            }
            case Recording.SERVER_FRAME -> {
                boolean withFd = p.get() != 0;
                yield new Entry.ServerFrame(bytes(p), withFd);
            }
            case Recording.GUEST_READ -> new Entry.GuestRead(p.getInt(), p.getInt(), p.getLong(), bytes(p));
            case Recording.TRACE -> new Entry.TraceEntry(p.getInt(), p.getInt(), string(p), string(p));
            case Recording.END -> new Entry.End(string(p));
            default -> null;
        };
        if (e != null && p.hasRemaining()) {
            throw new IllegalArgumentException(p.remaining() + " stray bytes");
        }
        return e;
    }

    private static byte[] bytes(ByteBuffer p) {
        int n = p.getInt();
        if (n < 0 || n > p.remaining()) {
            throw new IllegalArgumentException("length " + n);
        }
        byte[] out = new byte[n];
        p.get(out);
        return out;
    }

    private static String string(ByteBuffer p) {
        return new String(bytes(p), StandardCharsets.UTF_8);
    }
}
