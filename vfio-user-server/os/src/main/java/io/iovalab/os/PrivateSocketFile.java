package io.iovalab.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/**
 * Creates a listening socket file that is mode 0600 from the first moment anyone can reach it,
 * and never replaces an existing file.
 *
 * <p>How: bind inside a fresh directory of mode 0700 (nobody else can traverse into it, so
 * the socket is unreachable whatever its mode), chmod it to 0600, listen, then link(2) it to
 * the final name. link fails with EEXIST instead of replacing, so two servers racing for one
 * path cannot steal each other's socket, and the file never appears without a listener behind
 * it (a prober would take that for a stale socket). Changing the umask instead would be
 * process-wide: every other JVM thread creating a file meanwhile would get the wrong mode.
 */
final class PrivateSocketFile {
    private PrivateSocketFile() {
    }

    static Fd listen(Path path, int backlog) throws IOException {
        Path target = path.toAbsolutePath();
        UnixSocket.checkPathLength(target);
        if (!Files.isDirectory(target.getParent())) {
            throw new java.nio.file.NoSuchFileException(target.toString(), null, "its directory does not exist");
        }
        if (Files.exists(target, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            throw new FileAlreadyExistsException(target.toString(), null, "exists; not replaced");
        }
        Path dir = Files.createTempDirectory(target.getParent(), ".iovalab-bind-",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        Path tmp = dir.resolve("s");
        Fd sock = null;
        try {
            sock = UnixSocket.socket();
            bindInside(sock, dir, tmp);
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
            UnixSocket.listen(sock, backlog);
            Files.createLink(target, tmp);
            Fd done = sock;
            sock = null;
            return done;
        } finally {
            Fd.closeAll(sock);
            Files.deleteIfExists(tmp);
            Files.deleteIfExists(dir);
        }
    }

    /**
     * Binds to {@code tmp}; if its absolute name does not fit sun_path, binds through
     * /proc/self/fd/N/s of an O_PATH descriptor of {@code dir}, which always fits.
     */
    private static void bindInside(Fd sock, Path dir, Path tmp) throws OsException {
        if (tmp.toString().getBytes(StandardCharsets.UTF_8).length <= UnixSocket.MAX_PATH_BYTES) {
            UnixSocket.bind(sock, tmp);
            return;
        }
        try (Fd dirFd = openPath(dir)) {
            UnixSocket.bind(sock, Path.of("/proc/self/fd/" + dirFd.value() + "/" + tmp.getFileName()));
        }
    }

    private static Fd openPath(Path dir) throws OsException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment err = Libc.errnoBuffer(a);
            int fd = (int) Libc.OPEN.invokeExact(err, a.allocateFrom(dir.toString()),
                    Libc.O_PATH | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
            if (fd < 0) {
                throw Libc.fail("open(" + dir + ", O_PATH)", err);
            }
            return new Fd(fd);
        } catch (OsException e) {
            throw e;
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }
}
