package io.iovalab.transport;

import io.iovalab.os.Fd;
import io.iovalab.os.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.*;

class UnixListenerTest {
    @Test
    void socket_file_is_0600_and_removed_on_close(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        try (UnixListener l = UnixListener.open(p)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p)));
            l.release();
        }
        assertFalse(Files.exists(p));
    }

    @Test
    void a_stale_socket_is_replaced_and_a_live_one_refused(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        Fd dead = UnixSocket.listen(p, 1);
        dead.close(); // the file stays, nobody listens: stale
        try (UnixListener l = UnixListener.open(p)) {
            IOException e = assertThrows(IOException.class, () -> UnixListener.open(p));
            assertTrue(e.getMessage().contains("another server is listening"), e.getMessage());
            l.release();
        }
    }

    @Test
    void a_regular_file_is_never_replaced(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("not-a-socket");
        Files.writeString(p, "precious");
        IOException e = assertThrows(IOException.class, () -> UnixListener.open(p));
        assertTrue(e.getMessage().contains("not a socket"), e.getMessage());
        assertEquals("precious", Files.readString(p));
    }

    @Test
    void frames_arrive_whole_with_their_descriptor_and_writers_never_interleave(@TempDir Path dir) throws Exception {
        Fd[] pair = UnixSocket.pair();
        Connection a = Connection.of(pair[0], 4, 1 << 20);
        Connection b = Connection.of(pair[1], 4, 1 << 20);
        int threads = 4;
        int perThread = 200;
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            ts[t] = Thread.ofPlatform().start(() -> {
                for (int i = 0; i < perThread; i++) {
                    int size = 16 + 8 + (i * 37 % 5000);
                    java.nio.ByteBuffer f = java.nio.ByteBuffer.allocate(size).order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    f.putShort(0, (short) i).putShort(2, (short) id).putInt(4, size);
                    for (int k = 16; k < size; k++) {
                        f.put(k, (byte) id);
                    }
                    try {
                        a.writeFrame(f, null);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }
            });
        }
        for (int n = 0; n < threads * perThread; n++) {
            RawFrame f = b.readFrame();
            int id = f.header().getShort(2);
            while (f.body().hasRemaining()) {
                assertEquals(id, f.body().get(), "bytes of two frames interleaved");
            }
        }
        for (Thread t : ts) {
            t.join();
        }
        a.release();
        b.release();
    }
}
