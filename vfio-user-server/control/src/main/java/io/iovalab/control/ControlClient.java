package io.iovalab.control;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * The CLI's side of a control socket: one blocking connection, JSON lines. A request returns the
 * server's answer or throws {@link ControlException} with the server's error message.
 */
public final class ControlClient implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final SocketChannel channel;
    private final BufferedReader in;
    private final OutputStream out;

    private ControlClient(SocketChannel channel) {
        this.channel = channel;
        this.in = new BufferedReader(new InputStreamReader(Channels.newInputStream(channel), StandardCharsets.UTF_8));
        this.out = Channels.newOutputStream(channel);
    }

    /** Connects to the control socket of device socket {@code socket} (or to {@code socket} if it is one). */
    public static ControlClient connect(Path socket) throws IOException {
        Path ctl = ControlSocket.of(socket);
        if (!Files.exists(ctl)) {
            throw new IOException("no control socket " + ctl + " (is an iovalab server running on " + socket + "?)");
        }
        SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.connect(UnixDomainSocketAddress.of(ctl));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot connect to " + ctl + ": " + e.getMessage(), e);
        }
        return new ControlClient(ch);
    }

    /** A failed request: {@code {"ok":false,"error":...}}. */
    public static final class ControlException extends IOException {
        public ControlException(String message) {
            super(message);
        }
    }

    /** Sends one request and returns the answer (ok:true), or throws with the server's error. */
    public JsonNode request(Map<String, ?> request) throws IOException {
        send(request);
        return answer();
    }

    public JsonNode inspect() throws IOException {
        return request(Map.of("op", "inspect")).get("inspect");
    }

    /** Arms a fault; returns the injection (id, spec, fired, remaining). */
    public JsonNode inject(String spec) throws IOException {
        return request(Map.of("op", "inject", "spec", spec)).get("injection");
    }

    /**
     * Streams events matching {@code filter} to {@code onEvent} until it returns false, the server
     * goes away, or the connection is closed from another thread. {@code onDropped} hears how many
     * events the server dropped because we read too slowly.
     */
    public void trace(TraceFilter filter, Predicate<JsonNode> onEvent, java.util.function.LongConsumer onDropped) throws IOException {
        Map<String, Object> req = new LinkedHashMap<>();
        req.put("op", "trace");
        if (filter.device() != null) {
            req.put("device", filter.device());
        }
        if (filter.queue() >= 0) {
            req.put("queue", filter.queue());
        }
        req.put("kinds", List.copyOf(filter.kinds()));
        request(req);
        String line;
        try {
            while ((line = in.readLine()) != null) {
                JsonNode m = JSON.readTree(line);
                if (m.has("dropped")) {
                    onDropped.accept(m.get("dropped").asLong());
                } else if (m.has("event") && !onEvent.test(m.get("event"))) {
                    return;
                }
            }
        } catch (java.nio.channels.ClosedChannelException closed) {
            // closed by our own side: the trace is over
        }
    }

    /** Sends a raw line (tests use it for malformed input). */
    void sendLine(String line) throws IOException {
        out.write((line + "\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    /** Reads one answer line; throws ControlException for ok:false. */
    JsonNode answer() throws IOException {
        String line = in.readLine();
        if (line == null) {
            throw new IOException("the control socket closed the connection");
        }
        JsonNode m = JSON.readTree(line);
        if (!m.path("ok").asBoolean(false)) {
            throw new ControlException(m.path("error").asText("request failed"));
        }
        return m;
    }

    private void send(Map<String, ?> request) throws IOException {
        sendLine(JSON.writeValueAsString(request));
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
