package io.iovalab.transport;

import io.iovalab.os.Errno;
import io.iovalab.os.Fd;
import io.iovalab.os.OsException;
import io.iovalab.os.Process;
import io.iovalab.os.UnixSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class UnixListenerTest {
    private static final int MAX = 1 << 16;

    private static Object inode(Path p) throws IOException {
        return Files.getAttribute(p, "unix:ino", LinkOption.NOFOLLOW_LINKS);
    }

    @Test
    void the_socket_file_is_0600_accepts_clients_and_is_removed_on_close(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        try (UnixListener l = UnixListener.open(p)) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)));
            try (Connection client = Connection.of(UnixSocket.connect(p), 0, MAX);
                 Connection server = l.accept(4, MAX)) {
                assertEquals(new UnixSocket.PeerCredentials(Process.pid(), Process.uid(), Process.gid()), server.peer());
                client.writeFrame(Frames.frame(7, 1, 3, (byte) 9), null);
                assertEquals(7, Frames.id(server.readFrame()));
            }
        }
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
    }

    @Test
    void a_stale_socket_file_is_replaced(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        UnixSocket.listen(p, 1).close(); // a server that died: the file stays, nobody listens
        assertEquals(Errno.ECONNREFUSED, assertThrows(OsException.class, () -> UnixSocket.connect(p)).errno());
        try (UnixListener l = UnixListener.open(p)) {
            try (Fd c = UnixSocket.connect(p); Connection s = l.accept(0, MAX)) {
                assertNotNull(s);
            }
        }
    }

    @Test
    void a_live_socket_is_refused_and_keeps_working(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        try (UnixListener live = UnixListener.open(p)) {
            Object ino = inode(p);
            IOException e = assertThrows(IOException.class, () -> UnixListener.open(p));
            assertEquals("another server is listening on " + p.toAbsolutePath(), e.getMessage());
            assertEquals(ino, inode(p), "the live server's file must not be touched");
            try (Connection probe = live.accept(0, MAX)) {
                // the refusing side's probe was an ordinary connection that ended at once
                assertThrows(PeerClosedException.class, probe::readFrame);
            }
            try (Fd c = UnixSocket.connect(p); Connection s = live.accept(0, MAX)) {
                assertNotNull(s);
            }
        }
    }

    @Test
    void files_that_are_not_sockets_are_never_replaced(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("not-a-socket");
        Files.writeString(file, "precious");
        IOException e = assertThrows(IOException.class, () -> UnixListener.open(file));
        assertEquals(file.toAbsolutePath() + " exists and is not a socket; refusing to replace it", e.getMessage());
        assertEquals("precious", Files.readString(file));

        Path sub = Files.createDirectory(dir.resolve("a-directory"));
        assertThrows(IOException.class, () -> UnixListener.open(sub));
        assertTrue(Files.isDirectory(sub));

        Path link = Files.createSymbolicLink(dir.resolve("link"), dir.resolve("nowhere"));
        assertThrows(IOException.class, () -> UnixListener.open(link));
        assertTrue(Files.isSymbolicLink(link));
    }

    @Test
    void close_wakes_a_thread_blocked_in_accept(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        UnixListener l = UnixListener.open(p);
        CompletableFuture<Connection> accepted = new CompletableFuture<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                accepted.complete(l.accept(0, MAX));
            } catch (Throwable x) {
                accepted.completeExceptionally(x);
            }
        });
        Blocked.awaitInside(t, "io.iovalab.os.Poll");
        l.close();
        assertNull(accepted.get(10, TimeUnit.SECONDS), "accept returns null once the listener is closed");
        assertFalse(Files.exists(p, LinkOption.NOFOLLOW_LINKS));
        OsException refused = assertThrows(OsException.class, () -> UnixSocket.connect(p));
        assertEquals(Errno.ENOENT, refused.errno());
        assertNull(l.accept(0, MAX), "accept after close");
    }

    @Test
    void close_leaves_a_file_that_someone_else_put_at_the_path(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("s.sock");
        UnixListener l = UnixListener.open(p);
        Files.delete(p);
        Files.writeString(p, "theirs");
        l.close();
        assertEquals("theirs", Files.readString(p));
    }

    @Test
    void a_path_too_long_for_a_unix_socket_is_a_clear_error(@TempDir Path dir) {
        Path p = dir.resolve("x".repeat(120));
        IOException e = assertThrows(IOException.class, () -> UnixListener.open(p));
        assertTrue(e.getMessage().contains("sun_path holds at most 107"), e.getMessage());
    }
}
