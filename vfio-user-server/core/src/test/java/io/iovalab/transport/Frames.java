package io.iovalab.transport;

import io.iovalab.os.Fd;
import io.iovalab.os.FileStat;
import io.iovalab.os.OsException;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds raw vfio-user frames for transport tests: a header and a body of one repeated byte. */
final class Frames {
    private Frames() {
    }

    static ByteBuffer header(int id, int command, long size) {
        ByteBuffer h = ByteBuffer.allocate(RawFrame.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
        h.putShort(0, (short) id).putShort(2, (short) command).putInt(4, (int) size);
        return h;
    }

    static ByteBuffer body(int length, byte fill) {
        ByteBuffer b = ByteBuffer.allocate(length);
        for (int i = 0; i < length; i++) {
            b.put(i, fill);
        }
        return b;
    }

    static ByteBuffer frame(int id, int command, int bodyLength, byte fill) {
        ByteBuffer f = ByteBuffer.allocate(RawFrame.HEADER_SIZE + bodyLength).order(ByteOrder.LITTLE_ENDIAN);
        f.put(header(id, command, RawFrame.HEADER_SIZE + bodyLength)).put(body(bodyLength, fill)).flip();
        return f;
    }

    /** Sends bytes as they are, bypassing Connection's checks, with {@code fds} on the first byte. */
    static void raw(Fd sock, ByteBuffer bytes, Fd... fds) throws OsException {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment seg = a.allocate(bytes.remaining());
            java.lang.foreign.MemorySegment.copy(java.lang.foreign.MemorySegment.ofBuffer(bytes), 0, seg, 0, bytes.remaining());
            io.iovalab.os.UnixSocket.send(sock, new java.lang.foreign.MemorySegment[] {seg}, fds);
        }
    }

    static int id(RawFrame f) {
        return Short.toUnsignedInt(f.header().getShort(0));
    }

    static int command(RawFrame f) {
        return Short.toUnsignedInt(f.header().getShort(2));
    }

    static long ino(Fd fd) throws OsException {
        return FileStat.of(fd).ino();
    }
}
