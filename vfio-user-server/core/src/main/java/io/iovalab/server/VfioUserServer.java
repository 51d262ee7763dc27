package io.iovalab.server;

import io.iovalab.iommu.IovaSpace;
import io.iovalab.os.Process;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DevicePlugin;
import io.iovalab.spi.DeviceTrace;
import io.iovalab.transport.Connection;
import io.iovalab.transport.UnixListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One device on one socket. The device and its IOVA space live as long as the server; clients
 * come and go. A client that leaves takes its DMA maps and interrupt eventfds with it and the
 * device is reset, so the next client finds it as at power-on.
 */
public final class VfioUserServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(VfioUserServer.class);
    private static final int HEADER_AND_ARGS = 64;

    private final ServerOptions options;
    private final Device device;
    private final IovaSpace iova;
    private final ServerDeviceContext context;
    private final SwitchableRemoteDma remote;
    private final UnixListener listener;
    private final SessionStats stats;
    private final Thread acceptThread;
    private final CountDownLatch closed = new CountDownLatch(1);
    private final java.util.concurrent.atomic.AtomicBoolean closing = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile Connection active;
    private volatile RequestHandler handler;
    private final java.util.concurrent.atomic.AtomicReference<java.nio.file.Path> recordTo = new java.util.concurrent.atomic.AtomicReference<>();

    private VfioUserServer(ServerOptions options, Device device, IovaSpace iova, ServerDeviceContext context,
                           SwitchableRemoteDma remote, UnixListener listener, SessionStats stats) {
        this.options = options;
        this.device = device;
        this.iova = iova;
        this.context = context;
        this.remote = remote;
        this.listener = listener;
        this.stats = stats;
        device.function().setListener(DeviceWiring.pciListener(iova, () -> handler));
        this.acceptThread = new Thread(this::acceptLoop, options.name() + "-accept");
    }

    /** Creates the device (so a bad --device fails before any client shows up) and listens. */
    public static VfioUserServer start(ServerOptions options, DeviceRegistry registry) throws IOException, DeviceConfigException {
        DevicePlugin plugin = registry.resolve(options.device());
        SwitchableRemoteDma remote = new SwitchableRemoteDma();
        IovaSpace iova = new IovaSpace(options.name(), remote, options.maxDmaMaps());
        SessionStats stats = new SessionStats();
        ServerDeviceContext context = new ServerDeviceContext(options.name(), iova, stats);
        Device device;
        try {
            device = plugin.create(options.device(), context);
        } catch (DeviceConfigException | RuntimeException e) {
            context.close();
            throw e;
        }
        UnixListener listener;
        try {
            listener = UnixListener.open(options.socket());
        } catch (IOException e) {
            device.close();
            context.close();
            throw e;
        }
        VfioUserServer server = new VfioUserServer(options, device, iova, context, remote, listener, stats);
        server.acceptThread.start();
        return server;
    }

    public Device device() {
        return device;
    }

    public IovaSpace iovaSpace() {
        return iova;
    }

    /** The device's own events (commands, completions, interrupts, injections) for tracing. */
    public DeviceTrace deviceTrace() {
        return context.trace();
    }

    /**
     * Records the next client session into {@code file} (format: RECORDING.md). Only one session
     * is recorded: a replay starts from a device at power-on, which only the first client finds.
     */
    public void recordNextSession(java.nio.file.Path file) {
        recordTo.set(file);
    }

    public SessionStats stats() {
        return stats;
    }

    public ServerOptions options() {
        return options;
    }

    private void acceptLoop() {
        try {
            while (true) {
                Connection conn = listener.accept(options.maxMsgFds(), options.maxDataXferSize() + HEADER_AND_ARGS);
                if (conn == null) {
                    return;
                }
                int uid = conn.peer().uid();
                if (uid != Process.uid()) {
                    log.warn("refused a connection from uid {} (the server runs as uid {})", uid, Process.uid());
                    stats.refused.increment();
                    conn.release();
                    continue;
                }
                serve(conn);
            }
        } catch (IOException e) {
            log.error("listener failed: {}", e.getMessage());
        } finally {
            closed.countDown();
        }
    }

    private void serve(Connection conn) {
        stats.sessions.increment();
        log.info("{}: client connected", options.name());
        DmaFileCache files = new DmaFileCache();
        IrqTable irqs = new IrqTable(device.function().interrupts());
        RequestHandler h = new RequestHandler(device, iova, files, irqs, options);
        SessionTap tap = SessionTap.NONE;
        java.nio.file.Path record = recordTo.getAndSet(null);
        if (record != null) {
            try {
                tap = SessionRecorder.start(record, options, iova, context.trace());
                log.info("{}: recording this session to {}", options.name(), record);
            } catch (IOException e) {
                log.error("{}: cannot record to {}: {}", options.name(), record, e.getMessage());
            }
        }
        Session session = new Session(conn, h, options, stats, tap);
        remote.set(session.remote());
        handler = h;
        active = conn;
        try {
            session.run();
        } finally {
            active = null;
            handler = null;
            remote.set(null);
            // the client is gone: no interrupts to it, no DMA into its memory, device back to power-on
            irqs.closeAll();
            iova.setBusMasterEnabled(false);
            try {
                device.reset(Device.ResetReason.CLIENT_GONE);
            } catch (RuntimeException e) {
                log.error("{}: reset after disconnect failed", options.name(), e);
            }
            device.function().resetConfig();
            iova.unmapAll();
            files.clear();
            conn.release();
            stats.ended.increment();
            log.info("{}: client gone; device reset, all DMA maps dropped", options.name());
        }
    }

    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    public boolean awaitClosed(long timeout, TimeUnit unit) throws InterruptedException {
        return closed.await(timeout, unit);
    }

    @Override
    public void close() {
        if (closing.getAndSet(true)) {
            return;
        }
        listener.close();
        Connection c = active;
        if (c != null) {
            c.close();
        }
        try {
            acceptThread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        listener.release();
        device.close();
        iova.close();
        context.close();
    }
}
