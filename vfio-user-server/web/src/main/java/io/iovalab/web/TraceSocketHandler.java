package io.iovalab.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.control.TraceFilter;
import io.iovalab.control.TraceJson;
import io.iovalab.control.TraceOutbox;
import io.iovalab.control.TraceSubscription;
import io.iovalab.server.VfioUserServer;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code /ws/trace[?device=NAME][&kinds=A,B]}: after the upgrade, every trace event of the
 * chosen devices as one JSON text frame, in the control socket's event format. Events come
 * from device threads and are handed to this channel's event loop without blocking; a browser
 * that falls behind loses events, and the next frame it gets is {@code {"dropped":N}}.
 */
final class TraceSocketHandler extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(TraceSocketHandler.class);

    private final Devices devices;
    private final ObjectMapper json;
    private final TraceJson traceJson;
    private final TraceOutbox outbox = new TraceOutbox(this::write);
    private final List<TraceSubscription> subscriptions = new ArrayList<>();

    TraceSocketHandler(Devices devices, ObjectMapper json, TraceJson traceJson) {
        this.devices = devices;
        this.json = json;
        this.traceJson = traceJson;
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
        if (evt instanceof WebSocketServerProtocolHandler.HandshakeComplete hs) {
            String refusal = subscribe(ctx, new QueryStringDecoder(hs.requestUri()));
            if (refusal != null) {
                // 1008: policy violation, the closest WebSocket has to "400 bad query"
                ctx.writeAndFlush(new CloseWebSocketFrame(WebSocketCloseStatus.POLICY_VIOLATION, refusal))
                        .addListener(ChannelFutureListener.CLOSE);
            }
            return;
        }
        super.userEventTriggered(ctx, evt);
    }

    private String subscribe(ChannelHandlerContext ctx, QueryStringDecoder q) {
        List<VfioUserServer> chosen = devices.all();
        List<String> d = q.parameters().get("device");
        if (d != null && !d.isEmpty()) {
            VfioUserServer s = devices.named(d.getFirst());
            if (s == null) {
                return "no device '" + d.getFirst() + "'";
            }
            chosen = List.of(s);
        }
        List<String> kinds = new ArrayList<>();
        q.parameters().getOrDefault("kinds", List.of()).forEach(k -> kinds.addAll(List.of(k.split(","))));
        TraceFilter filter;
        try {
            filter = TraceFilter.of(null, -1, kinds.stream().filter(k -> !k.isBlank()).toList());
        } catch (IllegalArgumentException e) {
            return e.getMessage().length() > 120 ? e.getMessage().substring(0, 120) : e.getMessage();
        }
        for (VfioUserServer s : chosen) {
            subscriptions.add(TraceSubscription.open(s, filter, traceJson, event -> outbox.offer(ctx, event)));
        }
        return null;
    }

    private void write(ChannelHandlerContext ctx, Object value) {
        try {
            ctx.write(new TextWebSocketFrame(json.writeValueAsString(value)));
        } catch (JsonProcessingException e) {
            log.error("web: cannot serialize {}", value, e);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (msg instanceof WebSocketFrame) {
            // the stream is one-way; whatever the browser sends is ignored
            ReferenceCountUtil.release(msg);
            return;
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        subscriptions.forEach(TraceSubscription::close);
        subscriptions.clear();
        super.channelInactive(ctx);
    }
}
