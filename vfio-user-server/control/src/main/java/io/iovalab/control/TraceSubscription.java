package io.iovalab.control;

import io.iovalab.iommu.TraceEvent;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceEvent;

import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * One subscriber's tap on a server's IOMMU and device traces, shared by the control socket and
 * the web view. The sink runs on the thread that produced the event (a device worker, the
 * message thread), so it gets the JSON lazily: building it is left to the subscriber's own
 * thread, and an event the subscriber drops costs nothing.
 */
public final class TraceSubscription implements AutoCloseable {
    private final VfioUserServer server;
    private final Consumer<TraceEvent> iommuListener;
    private final Consumer<DeviceEvent> deviceListener;

    private TraceSubscription(VfioUserServer server, Consumer<TraceEvent> iommuListener, Consumer<DeviceEvent> deviceListener) {
        this.server = server;
        this.iommuListener = iommuListener;
        this.deviceListener = deviceListener;
    }

    public static TraceSubscription open(VfioUserServer server, TraceFilter filter, TraceJson json,
                                         Consumer<Supplier<Map<String, Object>>> sink) {
        String name = server.options().name();
        Consumer<TraceEvent> iommu = e -> {
            if (filter.accepts(name, e.kind().name(), e.queue())) {
                sink.accept(() -> json.iommu(name, e));
            }
        };
        Consumer<DeviceEvent> device = e -> {
            if (filter.accepts(e.device(), e.kind(), e.queue())) {
                sink.accept(() -> json.device(e));
            }
        };
        server.iovaSpace().trace().subscribe(iommu);
        server.deviceTrace().subscribe(device);
        return new TraceSubscription(server, iommu, device);
    }

    @Override
    public void close() {
        server.iovaSpace().trace().unsubscribe(iommuListener);
        server.deviceTrace().unsubscribe(deviceListener);
    }
}
