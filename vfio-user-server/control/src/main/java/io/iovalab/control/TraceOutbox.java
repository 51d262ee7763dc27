package io.iovalab.control;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;

import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import java.util.function.Supplier;

/**
 * Moves trace events from device threads to one connection's event loop without ever blocking a
 * device: when the reader falls behind, events are dropped and counted, and the count goes out as
 * {@code {"dropped":N}} before the next event that fits. Shared by the control socket and the web
 * view, which differ only in how a value becomes a frame ({@code write}).
 */
public final class TraceOutbox {
    /** Events queued for the event loop but not yet written; beyond this they are dropped. */
    public static final int MAX_PENDING = 4096;

    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicLong dropped = new AtomicLong();
    private final BiConsumer<ChannelHandlerContext, Object> write;
    private boolean flushScheduled; // event loop only

    /** {@code write} encodes one value on the event loop (without flushing). */
    public TraceOutbox(BiConsumer<ChannelHandlerContext, Object> write) {
        this.write = write;
    }

    /** On the event's thread: hand it to the event loop, or drop it if the reader is behind. */
    public void offer(ChannelHandlerContext ctx, Supplier<?> event) {
        Channel ch = ctx.channel();
        if (!ch.isWritable()) {
            dropped.incrementAndGet();
            return;
        }
        if (pending.incrementAndGet() > MAX_PENDING) {
            pending.decrementAndGet();
            dropped.incrementAndGet();
            return;
        }
        ch.eventLoop().execute(() -> {
            pending.decrementAndGet();
            long d = dropped.getAndSet(0);
            if (d > 0) {
                write.accept(ctx, Map.of("dropped", d));
            }
            write.accept(ctx, event.get());
            if (!flushScheduled) {
                flushScheduled = true; // one flush per burst, queued behind the burst's writes
                ch.eventLoop().execute(() -> {
                    flushScheduled = false;
                    ctx.flush();
                });
            }
        });
    }
}
