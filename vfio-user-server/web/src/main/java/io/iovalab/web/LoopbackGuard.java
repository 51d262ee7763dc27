package io.iovalab.web;

import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.util.ReferenceCountUtil;

import java.net.URI;
import java.util.Locale;
import java.util.Set;

/**
 * Binding to 127.0.0.1 keeps other machines out, but not other web pages in the user's own
 * browser: a page from anywhere may point a WebSocket or a DNS-rebound name at this port.
 * Requests must name a loopback host, and a browser's Origin, when sent, must be one too.
 * Also refuses requests the decoder could not parse, which never reach a handler otherwise.
 */
final class LoopbackGuard extends ChannelInboundHandlerAdapter {
    private static final Set<String> LOOPBACK = Set.of("127.0.0.1", "localhost", "[::1]");

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof FullHttpRequest req)) {
            ctx.fireChannelRead(msg);
            return;
        }
        String refusal = refusal(req);
        if (refusal == null) {
            ctx.fireChannelRead(msg);
            return;
        }
        ReferenceCountUtil.release(msg);
        HttpResponseStatus status = req.decoderResult().isFailure() ? HttpResponseStatus.BAD_REQUEST : HttpResponseStatus.FORBIDDEN;
        ctx.writeAndFlush(WebResponse.text(status, refusal)).addListener(ChannelFutureListener.CLOSE);
    }

    static String refusal(FullHttpRequest req) {
        if (req.decoderResult().isFailure()) {
            return "malformed HTTP request: " + req.decoderResult().cause().getMessage();
        }
        String host = req.headers().get(HttpHeaderNames.HOST);
        if (host == null || !LOOPBACK.contains(hostPart(host))) {
            return "the web view answers only requests for 127.0.0.1 or localhost (Host: " + host + ")";
        }
        String origin = req.headers().get(HttpHeaderNames.ORIGIN);
        if (origin != null && !origin.equals("null")) {
            try {
                URI u = URI.create(origin);
                String h = u.getHost() == null ? "" : u.getHost().toLowerCase(Locale.ROOT);
                if (!LOOPBACK.contains(h.contains(":") && !h.startsWith("[") ? "[" + h + "]" : h)) {
                    return "cross-origin request from " + origin + " refused";
                }
            } catch (IllegalArgumentException e) {
                return "unparsable Origin " + origin;
            }
        }
        return null;
    }

    private static String hostPart(String host) {
        String h = host.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            return end < 0 ? h : h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        return colon < 0 ? h : h.substring(0, colon);
    }
}
