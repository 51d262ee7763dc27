package io.iovalab.server;

import java.util.concurrent.atomic.LongAdder;

/** Message counters across sessions, for inspection and tests. */
public final class SessionStats {
    final LongAdder messages = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder sessions = new LongAdder();
    final LongAdder refused = new LongAdder();
    final LongAdder ended = new LongAdder();
    final LongAdder internalErrors = new LongAdder();
    final LongAdder deviceThreadExceptions = new LongAdder();

    public long messages() {
        return messages.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long sessions() {
        return sessions.sum();
    }

    /** Sessions whose clean-up (maps dropped, device reset, socket closed) has finished. */
    public long sessionsEnded() {
        return ended.sum();
    }

    public long refusedConnections() {
        return refused.sum();
    }

    /** Requests whose handling threw something unexpected (a server or device bug, answered EIO). */
    public long internalErrors() {
        return internalErrors.sum();
    }

    /** Exceptions that reached a device thread's uncaught-exception handler (a device bug). */
    public long deviceThreadExceptions() {
        return deviceThreadExceptions.sum();
    }
}
