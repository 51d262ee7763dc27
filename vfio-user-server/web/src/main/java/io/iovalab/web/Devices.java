package io.iovalab.web;

import io.iovalab.server.VfioUserServer;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The device servers the web view shows, by instance name. */
final class Devices {
    private final Map<String, VfioUserServer> byName = new LinkedHashMap<>();

    Devices(List<VfioUserServer> servers) {
        for (VfioUserServer s : servers) {
            if (byName.putIfAbsent(s.options().name(), s) != null) {
                throw new IllegalArgumentException("two devices named " + s.options().name());
            }
        }
    }

    List<VfioUserServer> all() {
        return List.copyOf(byName.values());
    }

    /** Null when there is no such device. */
    VfioUserServer named(String name) {
        return byName.get(name);
    }

    List<String> names() {
        return List.copyOf(byName.keySet());
    }
}
