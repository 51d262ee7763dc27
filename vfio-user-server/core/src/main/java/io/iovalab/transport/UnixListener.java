package io.iovalab.transport;

import io.iovalab.os.Errno;
import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.OsException;
import io.iovalab.os.Poll;
import io.iovalab.os.UnixSocket;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;

/**
 * The server's listening socket: created with mode 0600, replaces a stale socket file, refuses
 * to steal a live one, unlinks itself on close. {@link #accept()} can be interrupted by close.
 */
public final class UnixListener implements AutoCloseable {
    private final Path path;
    private final Fd fd;
    private final Fd wakeup;
    private volatile boolean closed;

    private UnixListener(Path path, Fd fd, Fd wakeup) {
        this.path = path;
        this.fd = fd;
        this.wakeup = wakeup;
    }

    public static UnixListener open(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        if (Files.exists(abs, LinkOption.NOFOLLOW_LINKS)) {
            PosixFileAttributes attrs = Files.readAttributes(abs, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
            if (!attrs.isOther()) {
                throw new IOException(abs + " exists and is not a socket; refusing to replace it");
            }
            try (Fd probe = UnixSocket.connect(abs)) {
                throw new IOException("another server is listening on " + abs);
            } catch (OsException e) {
                if (e.errno() != Errno.ECONNREFUSED) {
                    throw new IOException("cannot tell whether " + abs + " is in use: " + e.getMessage(), e);
                }
                // nobody listens: a stale socket file from a server that died
            }
        }
        Fd wake = EventFd.create(true);
        try {
            return new UnixListener(abs, UnixSocket.listen(abs, 4), wake);
        } catch (IOException e) {
            wake.close();
            throw e;
        }
    }

    public Path path() {
        return path;
    }

    /** The next client, or null once the listener is closed. */
    public Connection accept(int maxFds, int maxMessageSize) throws IOException {
        while (!closed) {
            int ready = Poll.readable(1000, fd, wakeup);
            if (closed || ready == 1) {
                return null;
            }
            if (ready == 0) {
                return new Connection(UnixSocket.accept(fd), maxFds, maxMessageSize);
            }
        }
        return null;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            EventFd.signal(wakeup);
        } catch (OsException ignored) {
            // the poll timeout notices closed anyway
        }
        fd.close();
        try {
            Files.deleteIfExists(path);
        } catch (IOException ignored) {
            // nothing better to do on the way out
        }
    }

    /** Releases the wakeup fd; call after no thread can be in accept any more. */
    public void release() {
        wakeup.close();
    }
}
