package io.iovalab.server;

import io.iovalab.iommu.DmaAccess;
import io.iovalab.spi.DeviceContext;
import io.iovalab.spi.DeviceTrace;
import io.iovalab.spi.SharedMemory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** The server's side of {@link DeviceContext}: one per device instance. */
final class ServerDeviceContext implements DeviceContext {
    private static final Logger log = LoggerFactory.getLogger(ServerDeviceContext.class);

    private final String name;
    private final DmaAccess dma;
    private final List<MemfdSharedMemory> shared = new ArrayList<>();
    private final DeviceTrace trace;
    private final SessionStats stats;

    ServerDeviceContext(String name, DmaAccess dma, SessionStats stats) {
        this.name = name;
        this.stats = stats;
        this.dma = dma;
        this.trace = new DeviceTrace(name);
    }

    @Override
    public DeviceTrace trace() {
        return trace;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public DmaAccess dma() {
        return dma;
    }

    @Override
    public synchronized SharedMemory allocateShared(String purpose, long size) throws IOException {
        MemfdSharedMemory m = MemfdSharedMemory.create(name + "-" + purpose, size);
        shared.add(m);
        return m;
    }

    @Override
    public ThreadFactory threads(String role) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, name + "-" + role + "-" + n.getAndIncrement());
            t.setDaemon(true);
            // a device bug must be visible, and must not take the server down with it
            t.setUncaughtExceptionHandler((th, e) -> {
                stats.deviceThreadExceptions.increment();
                log.error("{}: uncaught exception on {}", name, th.getName(), e);
            });
            return t;
        };
    }

    synchronized void close() {
        shared.forEach(MemfdSharedMemory::close);
        shared.clear();
    }
}
