package io.iovalab.cli;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Iterator;
import java.util.Map;
import java.util.Set;

/**
 * One trace event as one human-readable line:
 * {@code   12.345678 nvme0  COMPLETION     q1   cid 17    status=0x000 statusName=Successful Completion ...}.
 */
final class TraceFormat {
    private static final Set<String> HEAD = Set.of("t", "device", "kind", "queue", "cid");

    private TraceFormat() {
    }

    static String line(JsonNode e) {
        StringBuilder sb = new StringBuilder(String.format("%12.6f %-7s %-14s", e.path("t").asDouble(), e.path("device").asText(),
                e.path("kind").asText()));
        int q = e.path("queue").asInt(-1);
        int cid = e.path("cid").asInt(-1);
        sb.append(q >= 0 ? String.format(" q%-3d", q) : "     ");
        sb.append(cid >= 0 ? String.format(" cid %-5d", cid) : "          ");
        for (Iterator<Map.Entry<String, JsonNode>> it = e.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> f = it.next();
            if (!HEAD.contains(f.getKey())) {
                sb.append(' ').append(f.getKey()).append('=').append(f.getValue().isTextual() ? f.getValue().asText() : f.getValue().toString());
            }
        }
        return sb.toString();
    }
}
