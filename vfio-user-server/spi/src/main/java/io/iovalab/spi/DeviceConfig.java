package io.iovalab.spi;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A parsed {@code TYPE[:key=value,...]} device argument.
 *
 * <p>Values are looked up with typed getters that fail with a {@link DeviceConfigException}
 * naming the key, so a typo in a size or a flag is reported before the guest boots.
 */
public final class DeviceConfig {
    private final String type;
    private final Map<String, String> values;

    public DeviceConfig(String type, Map<String, String> values) {
        this.type = type;
        this.values = Collections.unmodifiableMap(new LinkedHashMap<>(values));
    }

    /** Parses {@code nvme:size=1G,lba=4096}. */
    public static DeviceConfig parse(String spec) throws DeviceConfigException {
        if (spec == null || spec.isBlank()) {
            throw new DeviceConfigException("empty --device argument; expected TYPE[:key=value,...]");
        }
        KeyValueText parsed;
        try {
            parsed = KeyValueText.parse(spec, false);
        } catch (KeyValueText.Malformed e) {
            throw new DeviceConfigException("--device '" + spec + "': " + e.getMessage());
        }
        return new DeviceConfig(parsed.head(), parsed.values());
    }

    public String type() {
        return type;
    }

    public Map<String, String> values() {
        return values;
    }

    /** Rejects keys the plugin does not document and fills in nothing: defaults come from getters. */
    public void checkKeys(List<DeviceOption> options) throws DeviceConfigException {
        for (String key : values.keySet()) {
            if (options.stream().noneMatch(o -> o.key().equals(key))) {
                throw new DeviceConfigException(type + ": unknown key '" + key + "'; known keys: "
                        + String.join(", ", options.stream().map(DeviceOption::key).toList()));
            }
        }
        for (DeviceOption o : options) {
            if (o.defaultValue() == null && !values.containsKey(o.key())) {
                throw new DeviceConfigException(type + ": key '" + o.key() + "' is required (" + o.help() + ")");
            }
        }
    }

    public String string(String key, String defaultValue) {
        return values.getOrDefault(key, defaultValue);
    }

    public long integer(String key, long defaultValue, long min, long max) throws DeviceConfigException {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        long n;
        try {
            n = v.startsWith("0x") || v.startsWith("0X") ? Long.parseUnsignedLong(v.substring(2), 16) : Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new DeviceConfigException(type + ": " + key + "=" + v + " is not a number");
        }
        return checkRange(key, v, n, min, max);
    }

    /** A byte count with an optional K/M/G/T suffix (powers of 1024). */
    public long size(String key, long defaultValue, long min, long max) throws DeviceConfigException {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        String s = v.toUpperCase(Locale.ROOT).replaceFirst("I?B$", "");
        int shift = 0;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'K' -> shift = 10;
                case 'M' -> shift = 20;
                case 'G' -> shift = 30;
                case 'T' -> shift = 40;
                default -> shift = 0;
            }
        }
        String digits = shift == 0 ? s : s.substring(0, s.length() - 1);
        long n;
        try {
            n = Long.parseLong(digits);
        } catch (NumberFormatException e) {
            throw new DeviceConfigException(type + ": " + key + "=" + v + " is not a size (e.g. 512M, 4G)");
        }
        if (n < 0 || (shift > 0 && n > (Long.MAX_VALUE >> shift))) {
            throw new DeviceConfigException(type + ": " + key + "=" + v + " is out of range");
        }
        return checkRange(key, v, n << shift, min, max);
    }

    public boolean bool(String key, boolean defaultValue) throws DeviceConfigException {
        String v = values.get(key);
        if (v == null) {
            return defaultValue;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "on", "yes", "1" -> true;
            case "false", "off", "no", "0" -> false;
            default -> throw new DeviceConfigException(type + ": " + key + "=" + v + " is not on/off");
        };
    }

    private long checkRange(String key, String raw, long n, long min, long max) throws DeviceConfigException {
        if (n < min || n > max) {
            throw new DeviceConfigException(type + ": " + key + "=" + raw + " is outside [" + min + ", " + max + "]");
        }
        return n;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(type);
        String sep = ":";
        for (Map.Entry<String, String> e : values.entrySet()) {
            sb.append(sep).append(e.getKey()).append('=').append(e.getValue());
            sep = ",";
        }
        return sb.toString();
    }
}
