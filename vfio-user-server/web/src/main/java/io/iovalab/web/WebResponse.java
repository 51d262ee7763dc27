package io.iovalab.web;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.nio.charset.StandardCharsets;

/** What a handler answers, before {@link ResponseEncoder} turns it into HTTP. */
record WebResponse(HttpResponseStatus status, String contentType, byte[] body) {
    static final String JSON = "application/json; charset=utf-8";
    static final String TEXT = "text/plain; charset=utf-8";
    static final String HTML = "text/html; charset=utf-8";
    /** Prometheus text exposition format 0.0.4 */
    static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

    static WebResponse text(HttpResponseStatus status, String message) {
        return new WebResponse(status, TEXT, (message + "\n").getBytes(StandardCharsets.UTF_8));
    }
}
