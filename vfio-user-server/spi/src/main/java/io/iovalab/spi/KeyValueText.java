package io.iovalab.spi;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code HEAD[:key=value,...]}, the shape shared by {@code --device} and fault specs. A bare key
 * means {@code true}; a repeated key is an error, because the second value would silently win.
 */
record KeyValueText(String head, Map<String, String> values) {

    /** Thrown with a message that names the offending part; callers wrap it in their own exception. */
    static final class Malformed extends Exception {
        Malformed(String message) {
            super(message);
        }
    }

    static KeyValueText parse(String text, boolean foldCase) throws Malformed {
        int colon = text.indexOf(':');
        String head = fold((colon < 0 ? text : text.substring(0, colon)).trim(), foldCase);
        if (head.isEmpty()) {
            throw new Malformed("missing name before ':'");
        }
        Map<String, String> values = new LinkedHashMap<>();
        if (colon >= 0) {
            for (String item : text.substring(colon + 1).split(",")) {
                if (item.isBlank()) {
                    continue;
                }
                int eq = item.indexOf('=');
                String key = fold((eq < 0 ? item : item.substring(0, eq)).trim(), foldCase);
                String value = eq < 0 ? "true" : item.substring(eq + 1).trim();
                if (key.isEmpty()) {
                    throw new Malformed("empty key in '" + item + "'");
                }
                if (values.putIfAbsent(key, value) != null) {
                    throw new Malformed("key '" + key + "' given twice");
                }
            }
        }
        return new KeyValueText(head, values);
    }

    private static String fold(String s, boolean foldCase) {
        return foldCase ? s.toLowerCase(Locale.ROOT) : s;
    }
}
