package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.UnixSocket;
import io.iovalab.transport.Connection;
import io.iovalab.transport.RawFrame;
import io.iovalab.wire.Capabilities;
import io.iovalab.wire.Command;
import io.iovalab.wire.Header;
import io.iovalab.wire.Message;
import io.iovalab.wire.MessageDecoder;
import io.iovalab.wire.MessageEncoder;
import io.iovalab.wire.WireException;

import java.io.EOFException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A vfio-user client speaking the real wire format over a real socket with real descriptors:
 * what QEMU does, minus the guest. Serves the server's DMA_READ/DMA_WRITE from a
 * {@link GuestMemory} on its reader thread, as QEMU serves them from guest RAM.
 */
public final class VfioUserClient implements AutoCloseable {
    /** Guest memory the client serves DMA_READ/DMA_WRITE from. */
    public interface GuestMemory {
        byte[] read(long address, int count) throws IOException;

        void write(long address, byte[] data) throws IOException;
    }

    /** An error reply. */
    public static final class ErrorReply extends IOException {
        public final int errno;

        ErrorReply(Header h) {
            super(h + " failed with errno " + h.error());
            this.errno = h.error();
        }
    }

    /** No answer within the deadline. */
    public static final class NoReplyException extends IOException {
        NoReplyException(String message) {
            super(message);
        }
    }

    /** A reply and the descriptor that came with it (GET_REGION_INFO). */
    public record Answer(Message.Reply reply, Fd[] fds) {
    }

    private final Fd sock;
    private final Connection conn;
    private final MessageEncoder encoder = new MessageEncoder();
    private final MessageDecoder decoder = new MessageDecoder(64 << 20);
    private final ConcurrentHashMap<Integer, CompletableFuture<Object>> pending = new ConcurrentHashMap<>();
    private final AtomicInteger nextId = new AtomicInteger(0x100);
    private final Thread reader;
    private volatile GuestMemory memory;
    private final AtomicInteger dmaRequests = new AtomicInteger();

    private VfioUserClient(Fd sock) {
        this.sock = sock;
        this.conn = Connection.of(sock, 16, 64 << 20);
        this.reader = new Thread(this::readLoop, "vfio-user-test-client");
        reader.setDaemon(true);
        reader.start();
    }

    public static VfioUserClient connect(Path socket) throws IOException {
        return new VfioUserClient(UnixSocket.connect(socket));
    }

    public void serveDma(GuestMemory m) {
        memory = m;
    }

    public int dmaRequestsServed() {
        return dmaRequests.get();
    }

    public Message.Reply call(Command c, Message.Request r, Fd... fds) throws IOException {
        return callWithFds(c, r, fds).reply();
    }

    public Answer callWithFds(Command c, Message.Request r, Fd... fds) throws IOException {
        int id = nextId.getAndIncrement() & 0xffff;
        return await(id, send(id, encoder.encodeRequest(id, c, r, false), fds));
    }

    /** Sends a NO_REPLY request (a posted write). */
    public void post(Command c, Message.Request r) throws IOException {
        int id = nextId.getAndIncrement() & 0xffff;
        write(encoder.encodeRequest(id, c, r, true));
    }

    /** Sends bytes as they are (malformed-input tests); returns the reply or error for {@code id}. */
    public Answer raw(int id, ByteBuffer frame, Fd... fds) throws IOException {
        return await(id, send(id, frame, fds));
    }

    /** A request on the wire whose answer has not been awaited yet. */
    public record Pending(int id, CompletableFuture<Object> answer) {
    }

    /** Sends bytes as they are without waiting: several requests can be in flight. */
    public Pending rawAsync(int id, ByteBuffer frame, Fd... fds) throws IOException {
        return new Pending(id, send(id, frame, fds));
    }

    /** The answer to a {@link #rawAsync} request, waiting at most {@code timeoutMillis}. */
    public Answer await(Pending p, long timeoutMillis) throws IOException {
        return await(p.id(), p.answer(), timeoutMillis);
    }

    /** {@link #raw(int, ByteBuffer, Fd...)} with its own deadline for the answer. */
    public Answer raw(int id, ByteBuffer frame, long timeoutMillis, Fd... fds) throws IOException {
        return await(id, send(id, frame, fds), timeoutMillis);
    }

    /** Sends bytes without waiting for anything. */
    public void rawNoReply(ByteBuffer frame, Fd... fds) throws IOException {
        write(frame, fds);
    }

    private CompletableFuture<Object> send(int id, ByteBuffer frame, Fd... fds) throws IOException {
        CompletableFuture<Object> f = new CompletableFuture<>();
        pending.put(id, f);
        write(frame, fds);
        return f;
    }

    /** Every frame goes out through here, so the reader's DMA replies never interleave with requests. */
    private synchronized void write(ByteBuffer frame, Fd... fds) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(Math.max(1, frame.remaining()));
            MemorySegment.copy(MemorySegment.ofBuffer(frame), 0, seg, 0, frame.remaining());
            int[] raw = new int[fds.length];
            for (int i = 0; i < fds.length; i++) {
                raw[i] = fds[i].value();
            }
            UnixSocket.send(sock, new MemorySegment[] {seg.asSlice(0, frame.remaining())}, raw);
        }
    }

    private Answer await(int id, CompletableFuture<Object> f) throws IOException {
        return await(id, f, 10_000);
    }

    private Answer await(int id, CompletableFuture<Object> f, long timeoutMillis) throws IOException {
        try {
            Object o = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
            if (o instanceof IOException e) {
                throw e;
            }
            return (Answer) o;
        } catch (java.util.concurrent.TimeoutException e) {
            throw new NoReplyException("no reply to id " + id + " within " + timeoutMillis + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException(e);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException(e.getCause());
        } finally {
            pending.remove(id);
        }
    }

    /** False once the connection has ended (the reader saw the end of the stream). */
    public boolean connected() {
        return reader.isAlive();
    }

    /** True if the server closed the connection. */
    public boolean closedByServer(long millis) throws InterruptedException {
        reader.join(millis);
        return !reader.isAlive();
    }

    private void readLoop() {
        try {
            while (true) {
                RawFrame f = conn.readFrame();
                Header h = Header.decode(f.header());
                if (!h.isReply()) {
                    f.closeFds();
                    serveServerRequest(h, f.body());
                    continue;
                }
                CompletableFuture<Object> p = pending.get(h.id());
                if (p == null) {
                    f.closeFds();
                    continue;
                }
                if (h.isError()) {
                    f.closeFds();
                    p.complete(new ErrorReply(h));
                    continue;
                }
                try {
                    p.complete(new Answer(decoder.decodeReply(h, f.body()), f.fds()));
                } catch (WireException e) {
                    f.closeFds();
                    p.complete(new IOException("bad reply " + h + ": " + e.getMessage()));
                }
            }
        } catch (EOFException e) {
            pending.values().forEach(p -> p.complete(new EOFException("server closed the connection")));
        } catch (IOException e) {
            pending.values().forEach(p -> p.complete(e));
        }
    }

    private void serveServerRequest(Header h, ByteBuffer body) throws IOException {
        dmaRequests.incrementAndGet();
        GuestMemory m = memory;
        try {
            Message.Request r = decoder.decodeServerRequest(h, body);
            if (m == null) {
                write(encoder.encodeError(h, 14));
                return;
            }
            Message.Reply reply = switch (r) {
                case Message.DmaRead rd -> new Message.DmaReadReply(rd.address(), rd.count(), m.read(rd.address(), (int) rd.count()));
                case Message.DmaWrite wr -> {
                    m.write(wr.address(), wr.data());
                    yield new Message.DmaWriteReply(wr.address(), wr.count());
                }
                default -> throw new WireException(22, "unexpected " + r);
            };
            if (!h.noReply()) {
                write(encoder.encodeReply(h, reply));
            }
        } catch (WireException | IOException e) {
            write(encoder.encodeError(h, e instanceof WireException w ? w.errno() : 14));
        }
    }

    public Message.Version version() throws IOException {
        return (Message.Version) call(Command.VERSION, new Message.Version(0, 0,
                new Capabilities(16, 1 << 20, 4096, 65535, false)));
    }

    @Override
    public void close() {
        conn.release();
    }
}
