package io.iovalab.transport;

import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.OsException;
import io.iovalab.os.Poll;
import io.iovalab.os.UnixSocket;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The server's listening socket: its file is created with mode 0600, replaces a stale socket
 * file, refuses to take over a live one or any other file, and is unlinked on close.
 * {@link #accept} waits in poll(2) together with a wakeup eventfd, so {@link #close()} from
 * another thread ends it at once.
 */
public final class UnixListener implements AutoCloseable {
    private static final int BACKLOG = 16;
    private static final int ATTEMPTS = 3;

    private final Path path;
    private final Object fileKey;
    private final Fd fd;
    private final Fd wakeup;
    private final ReentrantLock acceptLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();

    private UnixListener(Path path, Object fileKey, Fd fd, Fd wakeup) {
        this.path = path;
        this.fileKey = fileKey;
        this.fd = fd;
        this.wakeup = wakeup;
    }

    /**
     * Listens on {@code path}. An existing socket file nobody listens on is replaced; a live
     * one ("another server is listening on PATH") or a file of another kind is refused with an
     * IOException and left as it was.
     */
    public static UnixListener open(Path path) throws IOException {
        Path abs = path.toAbsolutePath();
        for (int attempt = 1; ; attempt++) {
            Fd fd;
            try {
                fd = UnixSocket.listen(abs, BACKLOG);
            } catch (FileAlreadyExistsException e) {
                if (attempt == ATTEMPTS) {
                    throw new IOException(abs + " keeps reappearing; is another server starting there?", e);
                }
                StaleSocketFile.removeIfStale(abs);
                continue;
            }
            Fd wake = null;
            try {
                fd.setNonBlocking(true);
                wake = EventFd.create(true);
                return new UnixListener(abs, fileKey(abs), fd, wake);
            } catch (IOException | RuntimeException e) {
                Fd.closeAll(fd, wake);
                Files.deleteIfExists(abs);
                throw e;
            }
        }
    }

    private static Object fileKey(Path p) throws IOException {
        Map<String, Object> a = Files.readAttributes(p, "unix:dev,ino", LinkOption.NOFOLLOW_LINKS);
        return java.util.List.of(a.get("dev"), a.get("ino"));
    }

    public Path path() {
        return path;
    }

    /**
     * Waits for the next client and returns its connection (see {@link Connection#of}), or
     * null once the listener is closed.
     */
    public Connection accept(int maxFds, int maxMessageSize) throws IOException {
        acceptLock.lock();
        try {
            while (!closed.get()) {
                int ready = Poll.readable(Poll.INFINITE, fd, wakeup);
                if (ready != 0 || closed.get()) {
                    continue;
                }
                // null: the client vanished between poll and accept; wait for the next one
                Fd client = UnixSocket.accept(fd);
                if (client != null) {
                    return Connection.of(client, maxFds, maxMessageSize);
                }
            }
            return null;
        } finally {
            acceptLock.unlock();
        }
    }

    /**
     * Stops accepting: wakes a thread in {@link #accept}, unlinks the socket file (if it is
     * still ours) and closes the descriptors once no thread is inside accept.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            EventFd.signal(wakeup);
        } catch (OsException e) {
            // cannot happen on an eventfd only ever incremented by 1 here; the accepting thread
            // would then stay in poll until its next client, and this close would wait for it
            throw new IllegalStateException("cannot wake the accepting thread", e);
        }
        acceptLock.lock();
        try {
            unlinkIfOurs();
            Fd.closeAll(fd, wakeup);
        } finally {
            acceptLock.unlock();
        }
    }

    private void unlinkIfOurs() {
        try {
            if (fileKey(path).equals(fileKey)) {
                Files.deleteIfExists(path);
            }
        } catch (NoSuchFileException gone) {
            // someone removed it already
        } catch (IOException e) {
            // nothing better to do on the way out; a stale file is replaced by the next server
        }
    }

    /** Same as {@link #close()}; kept for callers written when closing took two steps. */
    public void release() {
        close();
    }
}
