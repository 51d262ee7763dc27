package io.iovalab.server;

import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.pci.EventSink;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An interrupt eventfd from SET_IRQS. QEMU may replace it at any time while a device thread is
 * signalling; closing must wait for an in-flight write, or the write could land on an unrelated
 * file that reused the descriptor number.
 */
final class EventFdSink implements EventSink, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventFdSink.class);
    private static final int CLOSED = Integer.MIN_VALUE / 2;

    private final Fd fd;
    private final String what;
    /** number of signal() calls in flight; CLOSED added once close() starts */
    private final AtomicInteger users = new AtomicInteger();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final AtomicBoolean fdClosed = new AtomicBoolean();

    EventFdSink(Fd fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    @Override
    public void signal() {
        if (users.incrementAndGet() < 0) {
            release();
            return;
        }
        try {
            EventFd.signal(fd);
        } catch (IOException e) {
            log.warn("interrupt {} lost: {}", what, e.getMessage());
        } finally {
            release();
        }
    }

    private void release() {
        if (users.decrementAndGet() == CLOSED) {
            closeFd();
        }
    }

    @Override
    public void close() {
        if (closing.compareAndSet(false, true) && users.getAndAdd(CLOSED) == 0) {
            closeFd();
        }
    }

    private void closeFd() {
        if (fdClosed.compareAndSet(false, true)) {
            fd.close();
        }
    }

    @Override
    public String toString() {
        return "eventfd " + fd.value() + " (" + what + ")";
    }
}
