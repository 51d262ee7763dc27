package io.iovalab.server;

import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DevicePlugin;

import java.util.List;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The device types on the class path, found through {@link ServiceLoader}. */
public final class DeviceRegistry {
    private final TreeMap<String, DevicePlugin> plugins = new TreeMap<>();

    public DeviceRegistry(ClassLoader loader) {
        for (DevicePlugin p : ServiceLoader.load(DevicePlugin.class, loader)) {
            DevicePlugin previous = plugins.putIfAbsent(p.type(), p);
            if (previous != null) {
                throw new IllegalStateException("two device plugins claim type '" + p.type() + "': "
                        + previous.getClass().getName() + " and " + p.getClass().getName());
            }
        }
    }

    public static DeviceRegistry system() {
        return new DeviceRegistry(DeviceRegistry.class.getClassLoader());
    }

    public List<DevicePlugin> plugins() {
        return List.copyOf(plugins.values());
    }

    /** The plugin for {@code config.type()}, with its keys checked against the plugin's options. */
    public DevicePlugin resolve(DeviceConfig config) throws DeviceConfigException {
        DevicePlugin p = plugins.get(config.type());
        if (p == null) {
            throw new DeviceConfigException("unknown device type '" + config.type() + "'; available: "
                    + String.join(", ", plugins.keySet()));
        }
        config.checkKeys(p.options());
        return p;
    }
}
