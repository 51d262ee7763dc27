package io.iovalab.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A parsed fault specification, {@code KIND[:key=value,...]}, e.g.
 * {@code drop-completion:queue=1,count=2}. The same text arrives from {@code iovalab inject},
 * the control socket and tests; the device decides which kinds and keys it understands. Typed
 * getters fail with a {@link FaultSpecException} naming the key, so a typo is reported to the
 * user instead of arming a different fault.
 */
public final class FaultSpec {
    /** {@code count=always}: the fault stays armed until it is cleared. */
    public static final long ALWAYS = -1;

    private final String kind;
    private final Map<String, String> values;

    public FaultSpec(String kind, Map<String, String> values) {
        this.kind = kind;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    public static FaultSpec parse(String text) throws FaultSpecException {
        if (text == null || text.isBlank()) {
            throw new FaultSpecException("empty fault spec; expected KIND[:key=value,...]");
        }
        KeyValueText parsed;
        try {
            parsed = KeyValueText.parse(text, true);
        } catch (KeyValueText.Malformed e) {
            throw new FaultSpecException("fault spec '" + text + "': " + e.getMessage());
        }
        return new FaultSpec(parsed.head(), parsed.values());
    }

    public String kind() {
        return kind;
    }

    public Map<String, String> values() {
        return values;
    }

    public boolean has(String key) {
        return values.containsKey(key);
    }

    /** Rejects keys the kind does not take, so {@code qeueu=1} is an error, not "any queue". */
    public void checkKeys(Set<String> allowed) throws FaultSpecException {
        for (String key : values.keySet()) {
            if (!allowed.contains(key)) {
                throw new FaultSpecException(kind + ": unknown key '" + key + "'; " + kind + " takes: "
                        + (allowed.isEmpty() ? "no keys" : String.join(", ", allowed.stream().sorted().toList())));
            }
        }
    }

    public String string(String key, String defaultValue) {
        return values.getOrDefault(key, defaultValue);
    }

    /** A decimal or 0x-prefixed number in [min, max]. */
    public long integer(String key, long defaultValue, long min, long max) throws FaultSpecException {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        long n;
        try {
            n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new FaultSpecException(kind + ": " + key + "=" + v + " is not a number");
        }
        if (n < min || n > max) {
            throw new FaultSpecException(kind + ": " + key + "=" + v + " is outside [" + min + ", " + max + "]");
        }
        return n;
    }

    /** A required number. */
    public long required(String key, long min, long max) throws FaultSpecException {
        if (!values.containsKey(key)) {
            throw new FaultSpecException(kind + ": key '" + key + "' is required");
        }
        return integer(key, 0, min, max);
    }

    /** {@code count=N} (N ≥ 1) or {@code count=always} ({@link #ALWAYS}). */
    public long count(long defaultValue) throws FaultSpecException {
        String v = values.get("count");
        if (v != null && v.equalsIgnoreCase("always")) {
            return ALWAYS;
        }
        return integer("count", defaultValue, 1, Long.MAX_VALUE);
    }

    public boolean bool(String key, boolean defaultValue) throws FaultSpecException {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new FaultSpecException(kind + ": " + key + "=" + v + " is not on/off");
        };
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(kind);
        String sep = ":";
        for (Map.Entry<String, String> e : values.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = ",";
        }
        return sb.toString();
    }
}
