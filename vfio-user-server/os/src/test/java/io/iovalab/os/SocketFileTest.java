package io.iovalab.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

class SocketFileTest {

    private static String mode(Path p) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p, java.nio.file.LinkOption.NOFOLLOW_LINKS));
    }

    private static long entries(Path dir) throws Exception {
        try (Stream<Path> s = Files.list(dir)) {
            return s.count();
        }
    }

    @Test
    void a_bound_socket_file_is_mode_0600_and_no_temporary_files_remain(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("srv.sock");
        try (Fd l = UnixSocket.listen(p, 1)) {
            assertEquals("rw-------", mode(p));
            assertEquals(FileStat.S_IFSOCK, ((Integer) Files.getAttribute(p, "unix:mode")) & FileStat.S_IFMT);
            assertEquals(1, entries(dir), "the private bind directory must be gone");
            try (Fd c = UnixSocket.connect(p); Fd s = UnixSocket.accept(l)) {
                assertNotNull(s);
            }
        }
    }

    @Test
    void an_existing_file_is_never_replaced(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("taken");
        Files.writeString(p, "precious");
        assertThrows(FileAlreadyExistsException.class, () -> UnixSocket.listen(p, 1));
        assertEquals("precious", Files.readString(p));
        assertEquals(1, entries(dir));
    }

    @Test
    void a_missing_directory_is_named_in_the_error(@TempDir Path dir) {
        Path p = dir.resolve("missing/s.sock");
        java.nio.file.NoSuchFileException e = assertThrows(java.nio.file.NoSuchFileException.class, () -> UnixSocket.listen(p, 1));
        assertTrue(e.getMessage().contains("its directory does not exist"), e.getMessage());
    }

    @Test
    void a_path_too_long_for_sun_path_is_a_clear_error(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("x".repeat(UnixSocket.MAX_PATH_BYTES));
        OsException e = assertThrows(OsException.class, () -> UnixSocket.listen(p, 1));
        assertEquals(Errno.ENAMETOOLONG, e.errno());
        assertTrue(e.getMessage().contains("sun_path holds at most 107"), e.getMessage());
        assertThrows(OsException.class, () -> UnixSocket.connect(p));
    }

    @Test
    void a_path_that_just_fits_works_although_the_private_bind_name_would_not(@TempDir Path dir) throws Exception {
        int room = UnixSocket.MAX_PATH_BYTES - dir.toAbsolutePath().toString().length() - 1;
        assertTrue(room > 3, "temp dir too deep for this test: " + dir);
        Path p = dir.resolve("s".repeat(room));
        assertEquals(UnixSocket.MAX_PATH_BYTES, p.toString().length());
        try (Fd l = UnixSocket.listen(p, 1); Fd c = UnixSocket.connect(p); Fd s = UnixSocket.accept(l)) {
            assertEquals("rw-------", mode(p));
            assertEquals(Process.pid(), UnixSocket.peer(s).pid());
        }
    }

    @Test
    void non_blocking_accept_returns_null_when_nobody_is_waiting(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("nb.sock");
        try (Fd l = UnixSocket.listen(p, 1)) {
            l.setNonBlocking(true);
            assertNull(UnixSocket.accept(l));
            try (Fd c = UnixSocket.connect(p, true); Fd s = UnixSocket.accept(l)) {
                assertNotNull(s);
                assertFalse(c.isNonBlocking(), "the connected socket is handed back blocking");
                assertFalse(s.isNonBlocking(), "accept4 does not inherit O_NONBLOCK");
            }
        }
    }

    @Test
    void connecting_to_a_socket_nobody_listens_on_is_refused(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("stale.sock");
        UnixSocket.listen(p, 1).close();
        OsException e = assertThrows(OsException.class, () -> UnixSocket.connect(p, true));
        assertEquals(Errno.ECONNREFUSED, e.errno());
    }
}
