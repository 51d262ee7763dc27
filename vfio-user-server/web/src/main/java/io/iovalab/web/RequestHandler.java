package io.iovalab.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.server.VfioUserServer;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Routes a plain HTTP request to its answer. A request that cannot be answered gets a 4xx
 * saying why; a bug behind an endpoint gets a 500 and the connection, like the server, lives on.
 */
final class RequestHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);
    static final String ENDPOINTS = "/, /api/devices, /api/inspect?device=NAME, /api/map?device=NAME, /api/faults?device=NAME, /metrics, "
            + WebChannelInitializer.TRACE_PATH + " (WebSocket)";

    private final Devices devices;
    private final ObjectMapper json;
    private final Endpoints endpoints;

    RequestHandler(Devices devices, ObjectMapper json) {
        this.devices = devices;
        this.json = json;
        this.endpoints = new Endpoints(devices);
    }

    /** A request naming something that does not exist or is malformed; the message goes to the client. */
    static final class BadRequest extends Exception {
        final HttpResponseStatus status;

        BadRequest(HttpResponseStatus status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest req) {
        WebResponse res;
        try {
            res = answer(req);
        } catch (BadRequest e) {
            res = WebResponse.text(e.status, e.getMessage());
        } catch (RuntimeException | JsonProcessingException e) {
            log.error("web: {} {} failed", req.method(), req.uri(), e);
            res = WebResponse.text(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal error: " + e);
        }
        ChannelFuture f = ctx.writeAndFlush(res);
        if (!HttpUtil.isKeepAlive(req) || res.status().code() >= 400) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    private WebResponse answer(FullHttpRequest req) throws BadRequest, JsonProcessingException {
        QueryStringDecoder uri = new QueryStringDecoder(req.uri());
        String path = uri.path();
        if (!req.method().equals(HttpMethod.GET)) {
            throw new BadRequest(HttpResponseStatus.METHOD_NOT_ALLOWED, "only GET is served; endpoints: " + ENDPOINTS);
        }
        return switch (path) {
            case "/", "/index.html" -> Page.response();
            case "/metrics" -> new WebResponse(HttpResponseStatus.OK, WebResponse.PROMETHEUS, PrometheusMetrics.render(devices.all()));
            case "/api/devices" -> ok(endpoints.devices());
            case "/api/inspect" -> ok(endpoints.inspect(device(uri)));
            case "/api/map" -> ok(endpoints.map(device(uri)));
            case "/api/faults" -> ok(endpoints.faults(device(uri)));
            default -> throw new BadRequest(HttpResponseStatus.NOT_FOUND, "no such page: " + path + "; endpoints: " + ENDPOINTS);
        };
    }

    private VfioUserServer device(QueryStringDecoder uri) throws BadRequest {
        List<String> v = uri.parameters().get("device");
        if (v == null || v.isEmpty() || v.getFirst().isBlank()) {
            throw new BadRequest(HttpResponseStatus.BAD_REQUEST, "?device=NAME is required; devices: " + String.join(", ", devices.names()));
        }
        VfioUserServer s = devices.named(v.getFirst());
        if (s == null) {
            throw new BadRequest(HttpResponseStatus.NOT_FOUND, "no device '" + v.getFirst() + "'; devices: " + String.join(", ", devices.names()));
        }
        return s;
    }

    private WebResponse ok(Object value) throws JsonProcessingException {
        return new WebResponse(HttpResponseStatus.OK, WebResponse.JSON, json.writeValueAsBytes(value));
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("web connection closed: {}", cause.toString());
        ctx.close();
    }
}
