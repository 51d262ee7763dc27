package io.iovalab.control;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.os.Process;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.FaultInjector;
import io.iovalab.spi.FaultSpec;
import io.iovalab.spi.FaultSpecException;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.handler.codec.TooLongFrameException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One control connection: JSON-lines requests, one response line each; after {@code trace} the
 * connection streams events until the client closes it. A bad request is answered with
 * {@code {"ok":false,"error":...}} and the connection stays usable; nothing a client sends can
 * stop the server. Events arrive on device threads and are handed to this channel's event loop
 * without blocking: when the client reads too slowly they are dropped and counted, and the
 * count is sent as {@code {"dropped":N}} before the next event that fits.
 */
final class ControlHandler extends SimpleChannelInboundHandler<ByteBuf> {
    private static final Logger log = LoggerFactory.getLogger(ControlHandler.class);
    static final String OPS = "inspect, inject, injections, clear, trace";

    private final VfioUserServer server;
    private final ObjectMapper json;
    private final TraceJson traceJson;
    private final TraceOutbox outbox = new TraceOutbox(this::write);
    private TraceSubscription subscription;

    ControlHandler(VfioUserServer server, ObjectMapper json, TraceJson traceJson) {
        this.server = server;
        this.json = json;
        this.traceJson = traceJson;
    }

    /** A request that cannot be carried out; the message goes to the client as is. */
    static final class RequestException extends Exception {
        RequestException(String message) {
            super(message, null, false, false);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        // the socket is 0600 already; the peer check also covers a socket file handed around by fd
        int uid = ((EpollDomainSocketChannel) ctx.channel()).peerCredentials().uid();
        if (uid != Process.uid()) {
            log.warn("control socket: refused a connection from uid {}", uid);
            ctx.close();
            return;
        }
        super.channelActive(ctx);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf msg) {
        String line = msg.toString(StandardCharsets.UTF_8).strip();
        if (line.isEmpty()) {
            return;
        }
        JsonNode req;
        try {
            req = json.readTree(line);
        } catch (JsonProcessingException e) {
            reply(ctx, null, error("request is not JSON: " + e.getOriginalMessage()));
            return;
        }
        JsonNode id = req == null ? null : req.get("id");
        Map<String, Object> answer;
        try {
            if (req == null || !req.isObject()) {
                throw new RequestException("a request is a JSON object such as {\"op\":\"inspect\"}");
            }
            answer = dispatch(ctx, req);
            answer.put("ok", true);
        } catch (RequestException e) {
            answer = error(e.getMessage());
        } catch (RuntimeException e) {
            // a bug in a device's inspect or injector: report it, keep serving
            log.error("control request {} failed", line, e);
            answer = error("internal error: " + e);
        }
        reply(ctx, id, answer);
    }

    private Map<String, Object> dispatch(ChannelHandlerContext ctx, JsonNode req) throws RequestException {
        String op = req.path("op").asText("");
        FaultInjector faults = server.device().faultInjector();
        Map<String, Object> out = new LinkedHashMap<>();
        switch (op) {
            case "inspect" -> out.put("inspect", Inspection.of(server));
            case "inject" -> {
                String spec = text(req, "spec");
                try {
                    out.put("injection", faults.inject(FaultSpec.parse(spec)));
                } catch (FaultSpecException e) {
                    throw new RequestException(e.getMessage());
                }
            }
            case "injections" -> {
                out.put("injections", faults.active());
                out.put("kinds", faults.kinds());
            }
            case "clear" -> {
                if (req.path("all").asBoolean(false)) {
                    out.put("cleared", faults.clearAll());
                } else if (req.path("injection").canConvertToLong()) {
                    long id = req.get("injection").asLong();
                    if (!faults.clear(id)) {
                        throw new RequestException("no armed injection " + id);
                    }
                    out.put("cleared", 1);
                } else {
                    throw new RequestException("clear needs \"injection\": ID or \"all\": true");
                }
            }
            case "trace" -> {
                subscribe(ctx, filter(req));
                out.put("streaming", true);
            }
            case "" -> throw new RequestException("missing \"op\"; ops: " + OPS);
            default -> throw new RequestException("unknown op '" + op + "'; ops: " + OPS);
        }
        return out;
    }

    private static String text(JsonNode req, String field) throws RequestException {
        JsonNode v = req.get(field);
        if (v == null || !v.isTextual()) {
            throw new RequestException("\"" + field + "\" (a string) is required");
        }
        return v.asText();
    }

    private static TraceFilter filter(JsonNode req) throws RequestException {
        JsonNode device = req.get("device");
        JsonNode queue = req.get("queue");
        if (queue != null && !queue.canConvertToInt()) {
            throw new RequestException("\"queue\" must be a number");
        }
        List<String> kinds = new ArrayList<>();
        JsonNode k = req.get("kinds");
        if (k != null) {
            if (!k.isArray()) {
                throw new RequestException("\"kinds\" must be an array of kind names");
            }
            k.forEach(n -> kinds.add(n.asText()));
        }
        try {
            return TraceFilter.of(device == null || device.isNull() ? null : device.asText(), queue == null ? -1 : queue.asInt(), kinds);
        } catch (IllegalArgumentException e) {
            throw new RequestException(e.getMessage());
        }
    }

    private void subscribe(ChannelHandlerContext ctx, TraceFilter filter) throws RequestException {
        if (subscription != null) {
            throw new RequestException("this connection is already tracing");
        }
        subscription = TraceSubscription.open(server, filter, traceJson, event -> outbox.offer(ctx, () -> Map.of("event", event.get())));
    }

    private void write(ChannelHandlerContext ctx, Object value) {
        try {
            byte[] b = json.writeValueAsBytes(value);
            ctx.write(Unpooled.wrappedBuffer(b, new byte[] {'\n'}));
        } catch (IOException e) {
            log.error("control: cannot serialize {}", value, e);
        }
    }

    private void reply(ChannelHandlerContext ctx, JsonNode id, Map<String, Object> answer) {
        Map<String, Object> m = new LinkedHashMap<>();
        if (id != null) {
            m.put("id", id);
        }
        m.putAll(answer);
        write(ctx, m);
        ctx.flush();
    }

    private static Map<String, Object> error(String message) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ok", false);
        m.put("error", message);
        return m;
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        if (subscription != null) {
            subscription.close();
        }
        super.channelInactive(ctx);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (cause instanceof TooLongFrameException) {
            reply(ctx, null, error("request line longer than " + ControlServer.MAX_LINE + " bytes"));
        } else {
            log.debug("control connection closed: {}", cause.toString());
        }
        ctx.close();
    }
}
