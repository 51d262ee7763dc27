package io.iovalab.web;

import io.netty.handler.codec.http.HttpResponseStatus;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** The one page, read once from the jar: it is part of the build, not a file a user edits. */
final class Page {
    private static final byte[] INDEX = load("index.html");

    private Page() {
    }

    static WebResponse response() {
        return new WebResponse(HttpResponseStatus.OK, WebResponse.HTML, INDEX);
    }

    private static byte[] load(String name) {
        try (InputStream in = Page.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " missing from the build");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
