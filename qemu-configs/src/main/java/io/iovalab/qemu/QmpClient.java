package io.iovalab.qemu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.epoll.EpollEventLoopGroup;
import io.netty.channel.unix.DomainSocketAddress;
import io.netty.handler.codec.json.JsonObjectDecoder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A QMP client on QEMU's monitor socket (Netty, epoll domain socket). Every command carries an
 * "id" so answers are matched even with events in between; events are collected.
 */
public final class QmpClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final EpollEventLoopGroup group = new EpollEventLoopGroup(1);
    private final Map<String, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    private final List<JsonNode> events = new CopyOnWriteArrayList<>();
    private final CompletableFuture<JsonNode> greeting = new CompletableFuture<>();
    private final AtomicLong ids = new AtomicLong();
    private final Duration timeout;
    private Channel channel;

    private QmpClient(Duration timeout) {
        this.timeout = timeout;
    }

    /** Connects, reads the greeting and leaves capabilities negotiation mode. */
    public static QmpClient connect(Path socket, Duration timeout) throws IOException {
        QmpClient c = new QmpClient(timeout);
        try {
            c.open(socket);
            c.execute("qmp_capabilities", Map.of());
            return c;
        } catch (IOException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void open(Path socket) throws IOException {
        Bootstrap b = new Bootstrap().group(group).channel(EpollDomainSocketChannel.class)
                .handler(new ChannelInitializer<Channel>() {
                    @Override
                    protected void initChannel(Channel ch) {
                        ch.pipeline().addLast(new JsonObjectDecoder(1 << 20), new SimpleChannelInboundHandler<ByteBuf>() {
                            @Override
                            protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) throws Exception {
                                receive(JSON.readTree(msg.toString(StandardCharsets.UTF_8)));
                            }

                            @Override
                            public void channelInactive(ChannelHandlerContext ctx) {
                                IOException gone = new IOException("QMP connection closed");
                                greeting.completeExceptionally(gone);
                                pending.values().forEach(f -> f.completeExceptionally(gone));
                            }
                        });
                    }
                });
        try {
            channel = b.connect(new DomainSocketAddress(socket.toFile())).sync().channel();
            greeting.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            throw new IOException("QMP at " + socket + ": " + e.getMessage(), e);
        }
    }

    private void receive(JsonNode msg) {
        if (msg.has("QMP")) {
            greeting.complete(msg);
        } else if (msg.has("event")) {
            events.add(msg);
        } else if (msg.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(msg.get("id").asText());
            if (f != null) {
                f.complete(msg);
            }
        }
    }

    /** Runs a command; its "return" value, or an IOException with QMP's error description. */
    public JsonNode execute(String command, Map<String, ?> arguments) throws IOException {
        String id = "iovalab-" + ids.incrementAndGet();
        ObjectNode req = JSON.createObjectNode().put("execute", command).put("id", id);
        if (!arguments.isEmpty()) {
            req.set("arguments", JSON.valueToTree(arguments));
        }
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        channel.writeAndFlush(Unpooled.copiedBuffer(req.toString() + "\n", StandardCharsets.UTF_8));
        JsonNode answer;
        try {
            answer = f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            pending.remove(id);
            throw new IOException("QMP " + command + ": " + (e.getCause() != null ? e.getCause().getMessage() : "no answer within "
                    + timeout.toSeconds() + " s"));
        }
        if (answer.has("error")) {
            throw new IOException("QMP " + command + " failed: " + answer.get("error").path("desc").asText());
        }
        return answer.path("return");
    }

    /** query-status: "running", "paused", ... */
    public String status() throws IOException {
        return execute("query-status", Map.of()).path("status").asText();
    }

    public void systemReset() throws IOException {
        execute("system_reset", Map.of());
    }

    /** device_add with the same object as a JSON -device. */
    public void deviceAdd(Map<String, ?> device) throws IOException {
        execute("device_add", device);
    }

    public void deviceDel(String id) throws IOException {
        execute("device_del", Map.of("id", id));
    }

    public void quit() throws IOException {
        execute("quit", Map.of());
    }

    public List<JsonNode> events() {
        return List.copyOf(events);
    }

    /** Waits for an event by name (e.g. DEVICE_DELETED). */
    public JsonNode awaitEvent(String name, Duration within) throws IOException {
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            for (JsonNode e : events) {
                if (e.path("event").asText().equals(name)) {
                    return e;
                }
            }
            try {
                Thread.sleep(50);
            } catch (InterruptedException ex) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted");
            }
        }
        throw new IOException("no QMP event " + name + " within " + within.toSeconds() + " s");
    }

    @Override
    public void close() {
        if (channel != null) {
            channel.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
}
