package io.iovalab.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.control.TraceJson;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolConfig;
import io.netty.handler.codec.http.websocketx.WebSocketServerProtocolHandler;

/**
 * One connection's pipeline: HTTP decoding, the loopback guard, the WebSocket upgrade for
 * {@value #TRACE_PATH}, then the request handler; responses leave through {@link ResponseEncoder}.
 */
final class WebChannelInitializer extends ChannelInitializer<Channel> {
    static final String TRACE_PATH = "/ws/trace";
    /** requests are GETs; a larger one is a mistake or an attack, answered 413 by the aggregator */
    static final int MAX_REQUEST = 16 * 1024;

    private final Devices devices;
    private final ObjectMapper json;
    private final TraceJson traceJson;

    WebChannelInitializer(Devices devices, ObjectMapper json, TraceJson traceJson) {
        this.devices = devices;
        this.json = json;
        this.traceJson = traceJson;
    }

    @Override
    protected void initChannel(Channel ch) {
        ch.pipeline().addLast(
                new HttpServerCodec(4096, 8192, 8192),
                new HttpObjectAggregator(MAX_REQUEST),
                new ResponseEncoder(),
                new LoopbackGuard(),
                new WebSocketServerProtocolHandler(WebSocketServerProtocolConfig.newBuilder()
                        .websocketPath(TRACE_PATH).checkStartsWith(true).allowExtensions(false)
                        .maxFramePayloadLength(4096).build()),
                new TraceSocketHandler(devices, json, traceJson),
                new RequestHandler(devices, json));
    }
}
