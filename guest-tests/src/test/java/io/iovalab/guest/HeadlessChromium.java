package io.iovalab.guest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.qemu.Cache;
import io.iovalab.qemu.HostTools;
import io.iovalab.qemu.Progress;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A headless Chromium showing one page, driven over the DevTools protocol: the test asks the
 * live page questions ({@link #evaluate}) while it runs, which a one-shot {@code --dump-dom}
 * cannot do for a page fed by a WebSocket.
 */
final class HeadlessChromium implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final WebSocket devtools;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> calls;

    private HeadlessChromium(Process process, WebSocket devtools, Map<Integer, CompletableFuture<JsonNode>> calls) {
        this.process = process;
        this.devtools = devtools;
        this.calls = calls;
    }

    static HeadlessChromium open(String url, int width, int height, Path log) throws Exception {
        HostTools.ensureCommand("chromium", "chromium", Cache.standard(), Progress.to(System.err));
        Path profile = Files.createTempDirectory("iovalab-chromium");
        // no network beyond the page's own server: no updates, sync, QUIC or background fetches
        List<String> argv = List.of("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--force-device-scale-factor=1", "--hide-scrollbars", "--user-data-dir=" + profile,
                "--window-size=" + width + "," + height, "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", url);
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            // Chromium writes the port it picked here once DevTools listens
            Path active = profile.resolve("DevToolsActivePort");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            while (!Files.isRegularFile(active) || Files.readAllLines(active).size() < 2) {
                if (!p.isAlive() || System.nanoTime() - deadline > 0) {
                    throw new IOException("chromium did not open DevTools; log:\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
            int port = Integer.parseInt(Files.readAllLines(active).getFirst().strip());
            HttpClient http = HttpClient.newHttpClient();
            String pageSocket = null;
            while (pageSocket == null) {
                JsonNode targets = JSON.readTree(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/json/list")).build(),
                        HttpResponse.BodyHandlers.ofString()).body());
                for (JsonNode t : targets) {
                    if (t.path("type").asText().equals("page")) {
                        pageSocket = t.path("webSocketDebuggerUrl").asText();
                    }
                }
                if (pageSocket == null) {
                    if (System.nanoTime() - deadline > 0) {
                        throw new IOException("chromium shows no page target: " + targets);
                    }
                    Thread.sleep(100);
                }
            }
            Map<Integer, CompletableFuture<JsonNode>> calls = new ConcurrentHashMap<>();
            WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(pageSocket), new Replies(calls)).get(30, TimeUnit.SECONDS);
            return new HeadlessChromium(p, ws, calls);
        } catch (Exception e) {
            p.destroyForcibly();
            throw e;
        }
    }

    /** A JavaScript expression's value in the page; a promise is awaited. */
    JsonNode evaluate(String expression) throws Exception {
        JsonNode r = call("Runtime.evaluate", Map.of("expression", expression, "awaitPromise", true, "returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("page threw: " + r.get("exceptionDetails"));
        }
        return r.path("result").path("value");
    }

    void screenshot(Path png) throws Exception {
        JsonNode r = call("Page.captureScreenshot", Map.of("format", "png"));
        Files.write(png, Base64.getDecoder().decode(r.path("data").asText()));
    }

    private JsonNode call(String method, Map<String, Object> params) throws Exception {
        int id = ids.incrementAndGet();
        CompletableFuture<JsonNode> reply = new CompletableFuture<>();
        calls.put(id, reply);
        devtools.sendText(JSON.writeValueAsString(Map.of("id", id, "method", method, "params", params)), true).get(30, TimeUnit.SECONDS);
        JsonNode r = reply.get(60, TimeUnit.SECONDS);
        if (r.has("error")) {
            throw new IllegalStateException(method + ": " + r.get("error"));
        }
        return r.path("result");
    }

    /** DevTools replies carry the call's id; events (no id) are not asked for and ignored. */
    private record Replies(Map<Integer, CompletableFuture<JsonNode>> calls, StringBuilder b) implements WebSocket.Listener {
        Replies(Map<Integer, CompletableFuture<JsonNode>> calls) {
            // a screenshot reply arrives in parts; the listener is called for one part at a time
            this(calls, new StringBuilder());
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            b.append(data);
            if (last) {
                try {
                    JsonNode m = JSON.readTree(b.toString());
                    CompletableFuture<JsonNode> f = m.has("id") ? calls.remove(m.get("id").asInt()) : null;
                    if (f != null) {
                        f.complete(m);
                    }
                } catch (IOException e) {
                    calls.values().forEach(f -> f.completeExceptionally(e));
                } finally {
                    b.setLength(0);
                }
            }
            ws.request(1);
            return null;
        }
    }

    @Override
    public void close() throws InterruptedException {
        devtools.abort();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
