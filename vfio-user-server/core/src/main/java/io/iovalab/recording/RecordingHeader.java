package io.iovalab.recording;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What a replay needs before the first record: the device (as given to {@code --device}) and the
 * server's limits. Stored as UTF-8 {@code key=value} lines so a person can read it with strings(1).
 */
public record RecordingHeader(String device, String name, int maxMsgFds, int maxDataXferSize, int maxDmaMaps) {

    String encode() {
        return "device=" + device + "\nname=" + name + "\nmaxMsgFds=" + maxMsgFds + "\nmaxDataXferSize=" + maxDataXferSize
                + "\nmaxDmaMaps=" + maxDmaMaps + "\n";
    }

    static RecordingHeader decode(String text) throws RecordingException {
        Map<String, String> m = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                m.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        for (String key : new String[]{"device", "name", "maxMsgFds", "maxDataXferSize", "maxDmaMaps"}) {
            if (!m.containsKey(key)) {
                throw new RecordingException("recording header lacks '" + key + "'");
            }
        }
        try {
            return new RecordingHeader(m.get("device"), m.get("name"), Integer.parseInt(m.get("maxMsgFds")),
                    Integer.parseInt(m.get("maxDataXferSize")), Integer.parseInt(m.get("maxDmaMaps")));
        } catch (NumberFormatException e) {
            throw new RecordingException("recording header has a bad number: " + e.getMessage());
        }
    }
}
