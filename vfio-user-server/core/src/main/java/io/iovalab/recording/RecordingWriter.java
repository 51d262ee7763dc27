package io.iovalab.recording;

import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.CRC32;

/**
 * Writes a recording. Records from the message thread and the device threads are appended under
 * one lock, so the file order is the order in which the server saw things happen.
 */
public final class RecordingWriter implements AutoCloseable {
    private final DataOutputStream out;
    private final CRC32 crc = new CRC32();
    private boolean closed;

    public RecordingWriter(OutputStream stream, RecordingHeader header) throws IOException {
        this.out = new DataOutputStream(new BufferedOutputStream(stream, 1 << 16));
        byte[] h = header.encode().getBytes(StandardCharsets.UTF_8);
        out.write(Recording.MAGIC);
        out.writeShort(Recording.VERSION);
        out.writeShort(0);
        out.writeInt(h.length);
        out.write(h);
        crc.reset();
        crc.update(h);
        out.writeInt((int) crc.getValue());
    }

    public static RecordingWriter create(Path file, RecordingHeader header) throws IOException {
        return new RecordingWriter(Files.newOutputStream(file), header);
    }

    public synchronized void write(Entry e) throws IOException {
        if (closed) {
            return; // late device events after the session ended are not part of it
        }
        Payload p = new Payload();
        int kind = switch (e) {
            case Entry.ClientFrame f -> {
                p.u16(f.fds().size());
                for (Entry.FdInfo fd : f.fds()) {
                    p.u8(fd.type());
                    p.u32(fd.fileId());
                    p.u64(fd.fileSize());
                }
                p.bytes(f.frame());
                yield Recording.CLIENT_FRAME;
            }
            case Entry.ServerFrame f -> {
                p.u8(f.withFd() ? 1 : 0);
                p.bytes(f.frame());
                yield Recording.SERVER_FRAME;
            }
            case Entry.GuestRead r -> {
                p.u32(r.queue());
                p.u32(r.commandId());
                p.u64(r.iova());
                p.bytes(r.data());
                yield Recording.GUEST_READ;
            }
            case Entry.TraceEntry t -> {
                p.u32(t.queue());
                p.u32(t.commandId());
                p.string(t.kind());
                p.string(t.detail());
                yield Recording.TRACE;
            }
            case Entry.End end -> {
                p.string(end.reason());
                yield Recording.END;
            }
        };
        byte[] body = p.toByteArray();
        out.writeByte(kind);
        out.writeInt(body.length);
        out.write(body);
        crc.reset();
        crc.update(kind);
        crc.update(body);
        out.writeInt((int) crc.getValue());
    }

    public synchronized void flush() throws IOException {
        if (!closed) {
            out.flush();
        }
    }

    @Override
    public synchronized void close() throws IOException {
        if (!closed) {
            closed = true;
            out.close();
        }
    }

    /** A record body under construction; big-endian like the framing. */
    private static final class Payload extends java.io.ByteArrayOutputStream {
        private final DataOutputStream d = new DataOutputStream(this);

        void u8(int v) throws IOException {
            d.writeByte(v);
        }

        void u16(int v) throws IOException {
            d.writeShort(v);
        }

        void u32(int v) throws IOException {
            d.writeInt(v);
        }

        void u64(long v) throws IOException {
            d.writeLong(v);
        }

        void bytes(byte[] b) throws IOException {
            d.writeInt(b.length);
            d.write(b);
        }

        void string(String s) throws IOException {
            bytes(s.getBytes(StandardCharsets.UTF_8));
        }
    }
}
