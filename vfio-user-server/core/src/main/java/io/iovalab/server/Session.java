package io.iovalab.server;

import io.iovalab.os.Errno;
import io.iovalab.os.Fd;
import io.iovalab.transport.Connection;
import io.iovalab.transport.FrameException;
import io.iovalab.transport.RawFrame;
import io.iovalab.wire.Capabilities;
import io.iovalab.wire.Command;
import io.iovalab.wire.Header;
import io.iovalab.wire.Message;
import io.iovalab.wire.MessageDecoder;
import io.iovalab.wire.MessageEncoder;
import io.iovalab.wire.WireException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * One client connection: reads requests in order, answers each (never a NO_REPLY one), and hands
 * replies to our own DMA_READ/DMA_WRITE requests to the device threads waiting for them.
 */
final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    private final Connection conn;
    private final RequestHandler handler;
    private final MessageDecoder decoder;
    private final MessageEncoder encoder = new MessageEncoder();
    private final RemoteDmaChannel remote;
    private final SessionStats stats;
    private final SessionTap tap;

    Session(Connection conn, RequestHandler handler, ServerOptions options, SessionStats stats) {
        this(conn, handler, options, stats, SessionTap.NONE);
    }

    Session(Connection conn, RequestHandler handler, ServerOptions options, SessionStats stats, SessionTap tap) {
        this.conn = conn;
        this.tap = tap;
        this.handler = handler;
        this.decoder = new MessageDecoder(options.maxDataXferSize());
        this.stats = stats;
        this.remote = new RemoteDmaChannel(this::sendDma, options.maxDataXferSize(), 64, 10_000);
        handler.useRemote(remote);
    }

    RemoteDmaChannel remote() {
        return remote;
    }

    /** Serves until the client goes away or breaks the stream beyond repair. */
    void run() {
        try {
            while (true) {
                RawFrame frame;
                try {
                    frame = conn.readFrame();
                } catch (FrameException e) {
                    Header h = Header.decode(e.header());
                    if (!e.recoverable()) {
                        log.warn("closing the connection: {} ({})", e.getMessage(), h);
                        return;
                    }
                    log.warn("rejected {}: {}", h, e.getMessage());
                    stats.errors.increment();
                    replyError(h, Errno.EINVAL);
                    continue;
                }
                tap.received(frame.header().asReadOnlyBuffer(), frame.body().asReadOnlyBuffer(), frame.fds());
                try {
                    serve(frame);
                } finally {
                    frame.closeFds();
                }
            }
        } catch (EOFException e) {
            log.info("client disconnected");
        } catch (IOException e) {
            log.warn("connection lost: {}", e.getMessage());
        } finally {
            remote.close();
            tap.closed();
        }
    }

    private void serve(RawFrame frame) throws IOException {
        Header h = Header.decode(frame.header());
        stats.messages.increment();
        if (h.isReply()) {
            dmaReply(h, frame.body());
            return;
        }
        Message.Request request;
        try {
            request = decoder.decodeRequest(h, frame.body(), frame.fds().length);
        } catch (WireException e) {
            log.warn("rejected {}: {}", h, e.getMessage());
            stats.errors.increment();
            replyError(h, e.errno());
            return;
        }
        Outcome out;
        try {
            out = handler.handle(request, frame.fds());
        } catch (HandlerException e) {
            log.warn("{} failed: {}", h, e.getMessage());
            stats.errors.increment();
            replyError(h, e.errno());
            return;
        } catch (RuntimeException e) {
            // a bug in a device or in the server: the guest must not be able to kill the server
            log.error("{} failed unexpectedly", h, e);
            stats.errors.increment();
            stats.internalErrors.increment();
            replyError(h, Errno.EIO);
            return;
        }
        if (!h.noReply()) {
            send(encoder.encodeReply(h, out.reply()), out.fd());
        }
    }

    private void replyError(Header h, int errno) throws IOException {
        if (!h.noReply() && !h.isReply()) {
            send(encoder.encodeError(h, errno), null);
        }
    }

    private void dmaReply(Header h, ByteBuffer body) {
        if (h.isError()) {
            if (!remote.complete(h.id(), new RemoteDmaChannel.Reply(h.error() != 0 ? h.error() : Errno.EIO, new byte[0]))) {
                log.warn("error reply {} matches no DMA request", h);
            }
            return;
        }
        byte[] data = new byte[0];
        try {
            Message.Reply r = decoder.decodeReply(h, body);
            if (r instanceof Message.DmaReadReply rr) {
                data = rr.data();
            }
        } catch (WireException e) {
            log.warn("malformed reply {}: {}", h, e.getMessage());
            remote.complete(h.id(), new RemoteDmaChannel.Reply(Errno.EINVAL, data));
            return;
        }
        if (!remote.complete(h.id(), new RemoteDmaChannel.Reply(0, data))) {
            log.warn("reply {} matches no DMA request (timed out?)", h);
        }
    }

    private void sendDma(int id, boolean write, long address, long count, byte[] data) throws IOException {
        Capabilities client = handler.client();
        if (client != null && count > client.maxDataXferSize()) {
            throw new IOException("DMA of " + count + " bytes exceeds the client's max_data_xfer_size");
        }
        Message.Request r = write ? new Message.DmaWrite(address, count, data) : new Message.DmaRead(address, count);
        send(encoder.encodeRequest(id, write ? Command.DMA_WRITE : Command.DMA_READ, r, false), null);
    }

    private void send(ByteBuffer frame, Fd fd) throws IOException {
        // observed before writing: the client may answer a DMA request before writeFrame returns
        tap.sent(frame.asReadOnlyBuffer(), fd);
        conn.writeFrame(frame, fd);
    }
}
