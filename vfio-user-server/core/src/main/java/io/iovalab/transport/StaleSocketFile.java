package io.iovalab.transport;

import io.iovalab.os.Errno;
import io.iovalab.os.FileStat;
import io.iovalab.os.OsException;
import io.iovalab.os.UnixSocket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;

/**
 * What may be done with a file found where the listening socket should go: a socket nobody
 * listens on is left over from a server that died and may be removed; anything else is
 * someone's and stays.
 */
final class StaleSocketFile {
    private StaleSocketFile() {
    }

    /** Removes {@code path} if it is a stale socket; throws if it must not be replaced. */
    static void removeIfStale(Path path) throws IOException {
        Map<String, Object> attrs;
        try {
            attrs = Files.readAttributes(path, "unix:mode,dev,ino", LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException gone) {
            return;
        }
        if (((Integer) attrs.get("mode") & FileStat.S_IFMT) != FileStat.S_IFSOCK) {
            throw new IOException(path + " exists and is not a socket; refusing to replace it");
        }
        // non-blocking, so a live server with a full backlog answers EAGAIN instead of hanging us
        try {
            UnixSocket.connect(path, true).close();
            throw new IOException("another server is listening on " + path);
        } catch (OsException e) {
            switch (e.errno()) {
                case Errno.ECONNREFUSED -> { } // nobody listens: stale
                case Errno.ENOENT -> {
                    return;
                }
                case Errno.EAGAIN -> throw new IOException("another server is listening on " + path + " (its backlog is full)");
                default -> throw new IOException("cannot tell whether " + path + " is in use: " + e.getMessage(), e);
            }
        }
        if (sameFile(attrs, path)) {
            Files.deleteIfExists(path);
        }
    }

    private static boolean sameFile(Map<String, Object> before, Path path) throws IOException {
        try {
            Map<String, Object> now = Files.readAttributes(path, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
            return now.get("dev").equals(before.get("dev")) && now.get("ino").equals(before.get("ino"));
        } catch (NoSuchFileException gone) {
            return false;
        }
    }
}
