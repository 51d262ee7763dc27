package io.iovalab.wire;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.charset.StandardCharsets;

/**
 * The VERSION capability object. Absent keys take the spec's defaults; unknown keys are kept
 * out (QEMU only warns about them).
 */
public record Capabilities(int maxMsgFds, long maxDataXferSize, long pgsizes, long maxDmaMaps,
                           boolean writeMultiple) {
    public static final int DEFAULT_MAX_MSG_FDS = 8;
    public static final long DEFAULT_MAX_DATA_XFER_SIZE = 1 << 20;
    public static final long DEFAULT_PGSIZES = 4096;
    public static final long DEFAULT_MAX_DMA_MAPS = 65535;

    private static final ObjectMapper JSON = new ObjectMapper();

    public static Capabilities defaults() {
        return new Capabilities(DEFAULT_MAX_MSG_FDS, DEFAULT_MAX_DATA_XFER_SIZE, DEFAULT_PGSIZES,
                DEFAULT_MAX_DMA_MAPS, false);
    }

    /** Parses the NUL-terminated JSON of a VERSION message body (after major/minor). */
    static Capabilities parse(byte[] json, int from, int to) throws WireException {
        int nul = -1;
        for (int i = from; i < to; i++) {
            if (json[i] == 0) {
                nul = i;
                break;
            }
        }
        if (nul < 0) {
            throw new WireException(Errnos.EINVAL, "VERSION: capability JSON is not NUL-terminated");
        }
        if (nul == from) {
            return defaults();
        }
        JsonNode root;
        try {
            root = JSON.readTree(new String(json, from, nul - from, StandardCharsets.UTF_8));
        } catch (Exception e) {
            throw new WireException(Errnos.EINVAL, "VERSION: capability JSON does not parse: " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new WireException(Errnos.EINVAL, "VERSION: capability JSON is not an object");
        }
        JsonNode caps = root.get("capabilities");
        if (caps == null) {
            return defaults();
        }
        if (!caps.isObject()) {
            throw new WireException(Errnos.EINVAL, "VERSION: \"capabilities\" is not an object");
        }
        return new Capabilities(
                (int) number(caps, "max_msg_fds", DEFAULT_MAX_MSG_FDS, 0, 1024),
                number(caps, "max_data_xfer_size", DEFAULT_MAX_DATA_XFER_SIZE, 1, 1L << 30),
                number(caps, "pgsizes", DEFAULT_PGSIZES, 4096, Long.MAX_VALUE),
                number(caps, "max_dma_maps", DEFAULT_MAX_DMA_MAPS, 0, Long.MAX_VALUE),
                bool(caps, "write_multiple"));
    }

    private static long number(JsonNode caps, String key, long dflt, long min, long max) throws WireException {
        JsonNode n = caps.get(key);
        if (n == null) {
            return dflt;
        }
        if (!n.isIntegralNumber() || !n.canConvertToLong()) {
            throw new WireException(Errnos.EINVAL, "VERSION: \"" + key + "\" is not an integer");
        }
        long v = n.asLong();
        if (v < min || v > max) {
            throw new WireException(Errnos.EINVAL, "VERSION: \"" + key + "\"=" + v + " is out of range");
        }
        return v;
    }

    private static boolean bool(JsonNode caps, String key) throws WireException {
        JsonNode n = caps.get(key);
        if (n == null) {
            return false;
        }
        if (!n.isBoolean()) {
            throw new WireException(Errnos.EINVAL, "VERSION: \"" + key + "\" is not a boolean");
        }
        return n.asBoolean();
    }

    /** The JSON text, NUL-terminated, as sent in a VERSION message. */
    byte[] toJsonBytes() {
        ObjectNode caps = JSON.createObjectNode();
        caps.put("max_msg_fds", maxMsgFds);
        caps.put("max_data_xfer_size", maxDataXferSize);
        caps.put("pgsizes", pgsizes);
        caps.put("max_dma_maps", maxDmaMaps);
        if (writeMultiple) {
            caps.put("write_multiple", true);
        }
        ObjectNode root = JSON.createObjectNode();
        root.set("capabilities", caps);
        byte[] text = root.toString().getBytes(StandardCharsets.UTF_8);
        byte[] out = new byte[text.length + 1];
        System.arraycopy(text, 0, out, 0, text.length);
        return out;
    }
}
