package io.iovalab.iommu;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * Byte counters of one device thread. Only the owner writes, so an opaque store of the sum is
 * enough; a shared atomic would put a locked instruction (and cache-line ping-pong between device
 * threads) on every access. Readers get a slightly stale but untorn value.
 */
final class AccessCounters {
    private static final VarHandle READ;
    private static final VarHandle WRITTEN;
    private static final VarHandle CONTROL;
    private static final VarHandle REMOTE;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            READ = l.findVarHandle(AccessCounters.class, "read", long.class);
            WRITTEN = l.findVarHandle(AccessCounters.class, "written", long.class);
            CONTROL = l.findVarHandle(AccessCounters.class, "control", long.class);
            REMOTE = l.findVarHandle(AccessCounters.class, "remote", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private long read;
    private long written;
    private long control;
    private long remote;

    void data(boolean write, long n) {
        if (write) {
            WRITTEN.setOpaque(this, written + n);
        } else {
            READ.setOpaque(this, read + n);
        }
    }

    void control(long n) {
        CONTROL.setOpaque(this, control + n);
    }

    void remote(long n) {
        REMOTE.setOpaque(this, remote + n);
    }

    long read() {
        return (long) READ.getOpaque(this);
    }

    long written() {
        return (long) WRITTEN.getOpaque(this);
    }

    long control() {
        return (long) CONTROL.getOpaque(this);
    }

    long remote() {
        return (long) REMOTE.getOpaque(this);
    }

    /** Folds {@code other} in; for counters that outlive their handle. Caller serializes. */
    void add(AccessCounters other) {
        READ.setOpaque(this, read + other.read());
        WRITTEN.setOpaque(this, written + other.written());
        CONTROL.setOpaque(this, control + other.control());
        REMOTE.setOpaque(this, remote + other.remote());
    }
}
