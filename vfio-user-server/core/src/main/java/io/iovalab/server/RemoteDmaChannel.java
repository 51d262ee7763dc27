package io.iovalab.server;

import io.iovalab.iommu.RemoteDma;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * DMA for maps without an fd: VFIO_USER_DMA_READ / VFIO_USER_DMA_WRITE requests to the client.
 *
 * <p>Only device threads call {@link #read}/{@link #write} and wait; the message thread only
 * hands replies over ({@link #complete}). So the message loop never blocks on a DMA reply while
 * QEMU might be blocked on one of ours — the deadlock of reference §5.3.
 */
final class RemoteDmaChannel implements RemoteDma {

    /** How the channel puts a request on the wire: id, command, address, count, data or null. */
    interface Sender {
        void send(int id, boolean write, long address, long count, byte[] data) throws IOException;
    }

    /** A reply as received: error errno (0 = success) and the payload past the 16-byte address/count. */
    record Reply(int errno, byte[] data) {
    }

    private final Sender sender;
    private final int maxChunk;
    private final long timeoutMillis;
    private final Semaphore outstanding;
    private final ConcurrentHashMap<Integer, CompletableFuture<Reply>> pending = new ConcurrentHashMap<>();
    private int nextId;
    private volatile boolean closed;
    private volatile boolean suspended;

    RemoteDmaChannel(Sender sender, int maxChunk, int maxOutstanding, long timeoutMillis) {
        this.sender = sender;
        this.maxChunk = maxChunk;
        this.timeoutMillis = timeoutMillis;
        this.outstanding = new Semaphore(maxOutstanding);
    }

    @Override
    public void read(long iova, MemorySegment dst, long dstOffset, long length) throws IOException {
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(maxChunk, length - done);
            Reply r = call(false, iova + done, n, null);
            if (r.data().length < n) {
                throw new IOException("DMA_READ at 0x" + Long.toHexString(iova + done) + ": client returned "
                        + r.data().length + " of " + n + " bytes");
            }
            MemorySegment.copy(r.data(), 0, dst, ValueLayout.JAVA_BYTE, dstOffset + done, n);
            done += n;
        }
    }

    @Override
    public void write(long iova, MemorySegment src, long srcOffset, long length) throws IOException {
        for (long done = 0; done < length; ) {
            int n = (int) Math.min(maxChunk, length - done);
            byte[] data = new byte[n];
            MemorySegment.copy(src, ValueLayout.JAVA_BYTE, srcOffset + done, data, 0, n);
            call(true, iova + done, n, data);
            done += n;
        }
    }

    private Reply call(boolean write, long address, int count, byte[] data) throws IOException {
        String what = (write ? "DMA_WRITE" : "DMA_READ") + " 0x" + Long.toHexString(address) + "+" + count;
        if (closed) {
            throw new IOException(what + ": client gone");
        }
        try {
            if (!outstanding.tryAcquire(timeoutMillis, TimeUnit.MILLISECONDS)) {
                throw new IOException(what + ": too many DMA messages outstanding");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what);
        }
        int id;
        CompletableFuture<Reply> f = new CompletableFuture<>();
        synchronized (this) {
            do {
                id = nextId;
                nextId = (nextId + 1) & 0xffff;
            } while (pending.putIfAbsent(id, f) != null);
        }
        try {
            if (suspended) {
                // checked after the future is in pending: a suspend() that missed it is seen here
                throw new IOException(what + ": device reset in progress");
            }
            sender.send(id, write, address, count, data);
            Reply r = f.get(timeoutMillis, TimeUnit.MILLISECONDS);
            if (r.errno() != 0) {
                throw new IOException(what + ": client replied errno " + r.errno());
            }
            return r;
        } catch (TimeoutException e) {
            throw new IOException(what + ": no reply within " + timeoutMillis + " ms");
        } catch (ExecutionException e) {
            throw new IOException(what + ": " + e.getCause().getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException(what);
        } finally {
            pending.remove(id);
            outstanding.release();
        }
    }

    /** Called by the message thread for a reply frame; false if no request waits for that id. */
    boolean complete(int id, Reply reply) {
        CompletableFuture<Reply> f = pending.get(id);
        return f != null && f.complete(reply);
    }

    /** Requests sent and not yet answered (or timed out): never more than {@code maxOutstanding}. */
    int outstanding() {
        return pending.size();
    }

    /**
     * For the duration of a device reset: every request in flight fails now and new ones fail at
     * once. The reset runs on the message thread and waits for the device's threads; a device
     * thread waiting for a DMA reply would wait for a message only that same thread can read.
     */
    void suspend() {
        suspended = true;
        pending.values().forEach(f -> f.completeExceptionally(new IOException("device reset")));
    }

    void resume() {
        suspended = false;
    }

    /** The client went away: every waiting device thread gets an error now. */
    void close() {
        closed = true;
        pending.values().forEach(f -> f.completeExceptionally(new IOException("client disconnected")));
    }
}
