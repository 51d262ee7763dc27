package io.iovalab.transport;

import io.iovalab.os.Errno;
import io.iovalab.os.Fd;
import io.iovalab.os.OsException;
import io.iovalab.os.UnixSocket;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One vfio-user connection: frames in (one reader thread at a time), frames out (any thread;
 * each frame goes out whole, never interleaved with another).
 *
 * <p>A message's descriptors arrive with its first bytes (the sender passes them to the
 * sendmsg that carries the header), so the header is read with a recvmsg that has room for
 * {@code maxFds} descriptors, then the body is read to its end without accepting any.
 *
 * <p>The socket descriptor is used only under the read or write lock and closed only while
 * holding both, so a close from any thread can never make a reader or writer use a number the
 * kernel has already handed to another file.
 */
public final class Connection implements AutoCloseable {
    private static final ValueLayout.OfInt U32_LE = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final int MAX_CHUNK = 1 << 20;

    private final Fd fd;
    private final int maxFds;
    private final int maxMessageSize;
    private final ReentrantLock readLock = new ReentrantLock();
    private final ReentrantLock writeLock = new ReentrantLock();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Arena readArena = Arena.ofShared();
    private final MemorySegment headerBuf;
    private final MemorySegment chunk;
    private UnixSocket.PeerCredentials peer;

    private Connection(Fd fd, int maxFds, int maxMessageSize) {
        if (maxFds < 0 || maxMessageSize < RawFrame.HEADER_SIZE) {
            throw new IllegalArgumentException("maxFds " + maxFds + ", maxMessageSize " + maxMessageSize);
        }
        this.fd = fd;
        this.maxFds = maxFds;
        this.maxMessageSize = maxMessageSize;
        this.headerBuf = readArena.allocate(RawFrame.HEADER_SIZE, 8);
        this.chunk = readArena.allocate(Math.min(maxMessageSize, MAX_CHUNK), 8);
    }

    /**
     * Wraps a connected stream socket and takes ownership of it. Messages may carry up to
     * {@code maxFds} descriptors and be up to {@code maxMessageSize} bytes, header included.
     */
    public static Connection of(Fd fd, int maxFds, int maxMessageSize) {
        return new Connection(fd, maxFds, maxMessageSize);
    }

    public int maxFds() {
        return maxFds;
    }

    public int maxMessageSize() {
        return maxMessageSize;
    }

    public boolean isClosed() {
        return closed.get();
    }

    /** Who connected (SO_PEERCRED, fixed at connect time). */
    public UnixSocket.PeerCredentials peer() throws IOException {
        writeLock.lock();
        try {
            if (peer == null) {
                ensureOpen();
                peer = UnixSocket.peer(fd);
            }
            return peer;
        } finally {
            writeLock.unlock();
        }
    }

    /**
     * The next message. Throws {@link PeerClosedException} when the connection ends,
     * {@link FrameSizeException} for a size outside [16, maxMessageSize] (close the connection
     * then), {@link TooManyFdsException} for a message with too many descriptors (consumed; the
     * next call reads the next message). On every exception the message's descriptors are
     * closed; on success the caller owns them.
     */
    public RawFrame readFrame() throws IOException {
        readLock.lock();
        List<Fd> fds = new ArrayList<>();
        boolean handedOver = false;
        try {
            ensureOpen();
            boolean dropped = false;
            long got = 0;
            while (got < RawFrame.HEADER_SIZE) {
                UnixSocket.Received r = receive(headerBuf.asSlice(got), RawFrame.HEADER_SIZE - got,
                        maxFds - fds.size(), got > 0);
                Collections.addAll(fds, r.fds());
                dropped |= r.fdsTruncated();
                if (r.bytes() == 0) {
                    throw got == 0 ? peerClosed(false, "") : peerClosed(true, " inside a message header");
                }
                got += r.bytes();
            }
            ByteBuffer header = ByteBuffer.allocate(RawFrame.HEADER_SIZE).order(ByteOrder.LITTLE_ENDIAN);
            MemorySegment.copy(headerBuf, 0, MemorySegment.ofBuffer(header), 0, RawFrame.HEADER_SIZE);
            long size = Integer.toUnsignedLong(header.getInt(RawFrame.SIZE_OFFSET));
            if (size < RawFrame.HEADER_SIZE || size > maxMessageSize) {
                throw new FrameSizeException(size, maxMessageSize, header);
            }
            ByteBuffer body = ByteBuffer.allocate((int) (size - RawFrame.HEADER_SIZE)).order(ByteOrder.LITTLE_ENDIAN);
            boolean lateFds = readBody(body);
            if (dropped) {
                throw new TooManyFdsException("message carried more than " + maxFds + " file descriptors", header);
            }
            if (lateFds) {
                throw new TooManyFdsException("message carried file descriptors after its first bytes", header);
            }
            RawFrame frame = new RawFrame(header, body, fds.toArray(Fd[]::new));
            handedOver = true;
            return frame;
        } finally {
            if (!handedOver) {
                fds.forEach(Fd::close);
            }
            readLock.unlock();
        }
    }

    /** Reads the whole body; true if descriptors came along (the kernel dropped them). */
    private boolean readBody(ByteBuffer body) throws IOException {
        MemorySegment dst = MemorySegment.ofBuffer(body);
        long want = dst.byteSize();
        long off = 0;
        boolean lateFds = false;
        while (off < want) {
            UnixSocket.Received r = receive(chunk, Math.min(want - off, chunk.byteSize()), 0, true);
            lateFds |= r.fdsTruncated();
            if (r.bytes() == 0) {
                throw peerClosed(true, " inside a message body (" + off + " of " + want + " bytes read)");
            }
            MemorySegment.copy(chunk, 0, dst, off, r.bytes());
            off += r.bytes();
        }
        return lateFds;
    }

    private UnixSocket.Received receive(MemorySegment buf, long len, int fds, boolean midFrame) throws IOException {
        try {
            return UnixSocket.receive(fd, buf, len, fds);
        } catch (OsException e) {
            if (e.errno() == Errno.ECONNRESET) {
                // the peer closed with data of ours unread: it is gone all the same
                throw peerClosed(midFrame, " (" + e.getMessage() + ")");
            }
            throw e;
        }
    }

    private PeerClosedException peerClosed(boolean midFrame, String where) {
        String who = closed.get() ? "connection closed locally" : "peer closed the connection";
        return new PeerClosedException(who + where, midFrame);
    }

    private void ensureOpen() throws PeerClosedException {
        if (closed.get()) {
            throw new PeerClosedException("connection closed locally", false);
        }
    }

    /** {@link #writeFrame(ByteBuffer[], Fd)} of one buffer. */
    public void writeFrame(ByteBuffer frame, Fd fdOrNull) throws IOException {
        writeFrame(new ByteBuffer[] {frame}, fdOrNull);
    }

    /**
     * Sends the concatenation of {@code parts} (each from position to limit; positions are
     * not moved) as one message; {@code fdOrNull} travels with its first bytes and stays owned
     * by the caller. Thread-safe: concurrent frames go out one after the other, never mixed.
     *
     * @throws IllegalArgumentException if the parts are shorter than a header or the header's
     *         size field disagrees with their length (sending it would desynchronise the peer)
     */
    public void writeFrame(ByteBuffer[] parts, Fd fdOrNull) throws IOException {
        long total = 0;
        for (ByteBuffer p : parts) {
            total += p.remaining();
        }
        if (total < RawFrame.HEADER_SIZE || total > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a frame of " + total + " bytes");
        }
        try (Arena a = Arena.ofConfined()) {
            // copied outside the lock, so writers only queue for the sendmsg itself
            MemorySegment out = a.allocate(total, 8);
            long off = 0;
            for (ByteBuffer p : parts) {
                MemorySegment.copy(MemorySegment.ofBuffer(p), 0, out, off, p.remaining());
                off += p.remaining();
            }
            long size = Integer.toUnsignedLong(out.get(U32_LE, RawFrame.SIZE_OFFSET));
            if (size != total) {
                throw new IllegalArgumentException("header size field says " + size + " but the frame has " + total + " bytes");
            }
            writeLock.lock();
            try {
                if (closed.get()) {
                    throw new IOException("connection closed");
                }
                UnixSocket.send(fd, new MemorySegment[] {out}, fdOrNull == null ? new Fd[0] : new Fd[] {fdOrNull});
            } finally {
                writeLock.unlock();
            }
        }
    }

    /**
     * Shuts the socket down, which wakes a reader blocked in {@link #readFrame()} (it gets
     * {@link PeerClosedException}) and a writer blocked on a full socket (EPIPE), then, once
     * both have left, closes the descriptor. Safe from any thread, any number of times.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        UnixSocket.shutdown(fd);
        readLock.lock();
        writeLock.lock();
        try {
            fd.close();
            readArena.close();
        } finally {
            writeLock.unlock();
            readLock.unlock();
        }
    }

    /** Same as {@link #close()}; kept for callers written when closing took two steps. */
    public void release() {
        close();
    }
}
