package io.iovalab.transport;

import io.iovalab.os.Fd;
import io.iovalab.os.OsException;
import io.iovalab.os.UnixSocket;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One vfio-user connection: frames in (one reader thread), frames out (any thread, serialized).
 *
 * <p>A message's descriptors arrive with its first bytes, so the header is read with one
 * recvmsg that has room for {@code maxFds} descriptors, then the body is read to its end.
 */
public final class Connection implements AutoCloseable {
    private static final int HEADER = 16;

    private final Fd fd;
    private final int maxFds;
    private final int maxMessageSize;
    private final ReentrantLock writeLock = new ReentrantLock();
    private final Arena readArena = Arena.ofShared();
    private final MemorySegment readBuf;
    private volatile boolean closed;

    Connection(Fd fd, int maxFds, int maxMessageSize) {
        this.fd = fd;
        this.maxFds = maxFds;
        this.maxMessageSize = maxMessageSize;
        this.readBuf = readArena.allocate(Math.max(HEADER, maxMessageSize), 8);
    }

    /** Wraps a connected socket (tests, clients). */
    public static Connection of(Fd fd, int maxFds, int maxMessageSize) {
        return new Connection(fd, maxFds, maxMessageSize);
    }

    public UnixSocket.PeerCredentials peer() throws OsException {
        return UnixSocket.peer(fd);
    }

    /**
     * The next frame. EOF at a frame boundary is {@link EOFException}; a frame that breaks the
     * limits is a {@link FrameException}.
     */
    public RawFrame readFrame() throws IOException {
        Fd[] fds = new Fd[0];
        long got = 0;
        boolean truncated = false;
        while (got < HEADER) {
            UnixSocket.Received r = UnixSocket.receive(fd, readBuf.asSlice(got), HEADER - got, got == 0 ? maxFds + 1 : 0);
            if (r.bytes() == 0) {
                closeAll(fds);
                closeAll(r.fds());
                if (got == 0) {
                    throw new EOFException("peer closed the connection");
                }
                throw new EOFException("peer closed the connection inside a header");
            }
            if (got == 0) {
                fds = r.fds();
                truncated = r.fdsTruncated();
            } else {
                closeAll(r.fds());
            }
            got += r.bytes();
        }
        ByteBuffer header = ByteBuffer.allocate(HEADER).order(ByteOrder.LITTLE_ENDIAN);
        MemorySegment.copy(readBuf, 0, MemorySegment.ofBuffer(header), 0, HEADER);
        long size = Integer.toUnsignedLong(header.getInt(4));
        if (size < HEADER || size > maxMessageSize) {
            closeAll(fds);
            throw new FrameException("message size " + size + " outside [16, " + maxMessageSize + "]", false, header);
        }
        ByteBuffer body = ByteBuffer.allocate((int) (size - HEADER)).order(ByteOrder.LITTLE_ENDIAN);
        readFully(body);
        if (truncated || fds.length > maxFds) {
            closeAll(fds);
            throw new FrameException("message carried more than " + maxFds + " file descriptors", true, header);
        }
        return new RawFrame(header, body, fds);
    }

    private void readFully(ByteBuffer body) throws IOException {
        int want = body.remaining();
        int off = 0;
        while (off < want) {
            int chunk = Math.min(want - off, (int) readBuf.byteSize());
            UnixSocket.Received r = UnixSocket.receive(fd, readBuf, chunk, 0);
            closeAll(r.fds());
            if (r.bytes() == 0) {
                throw new EOFException("peer closed the connection inside a message body");
            }
            MemorySegment.copy(readBuf, 0, MemorySegment.ofBuffer(body), off, r.bytes());
            off += (int) r.bytes();
        }
    }

    /** Sends one frame; {@code fd} (or null) goes with its first byte. Thread-safe. */
    public void writeFrame(ByteBuffer frame, Fd sendFd) throws IOException {
        writeLock.lock();
        try (Arena a = Arena.ofConfined()) {
            if (closed) {
                throw new IOException("connection closed");
            }
            MemorySegment seg = a.allocate(frame.remaining());
            MemorySegment.copy(MemorySegment.ofBuffer(frame), 0, seg, 0, frame.remaining());
            UnixSocket.send(fd, new MemorySegment[] {seg}, sendFd == null ? null : new int[] {sendFd.value()});
        } finally {
            writeLock.unlock();
        }
    }

    private static void closeAll(Fd[] fds) {
        for (Fd f : fds) {
            f.close();
        }
    }

    /** Wakes a blocked reader and stops further writes; the descriptor is released by {@link #release()}. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            UnixSocket.shutdown(fd);
        }
    }

    /** Frees the socket and buffers once the reader thread has left {@link #readFrame()}. */
    public void release() {
        close();
        writeLock.lock();
        try {
            fd.close();
            readArena.close();
        } finally {
            writeLock.unlock();
        }
    }
}
