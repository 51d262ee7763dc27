package io.iovalab.spi;

import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Where a device reports its {@link DeviceEvent}s. Devices ask {@link #enabled()} before building
 * an event, so a device costs nothing extra while nobody traces. Listeners run on the device's
 * thread and must not block.
 */
public final class DeviceTrace {
    private final String device;
    private final CopyOnWriteArrayList<Consumer<DeviceEvent>> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean enabled;

    public DeviceTrace(String device) {
        this.device = device;
    }

    public boolean enabled() {
        return enabled;
    }

    public void emit(String kind, int queue, int commandId, Map<String, Object> fields) {
        if (!enabled) {
            return;
        }
        DeviceEvent e = new DeviceEvent(System.nanoTime(), device, kind, queue, commandId, fields);
        for (Consumer<DeviceEvent> l : listeners) {
            l.accept(e);
        }
    }

    public void subscribe(Consumer<DeviceEvent> listener) {
        listeners.add(listener);
        enabled = true;
    }

    public void unsubscribe(Consumer<DeviceEvent> listener) {
        listeners.remove(listener);
        enabled = !listeners.isEmpty();
    }
}
