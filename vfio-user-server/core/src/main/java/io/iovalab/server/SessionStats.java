package io.iovalab.server;

import java.util.concurrent.atomic.LongAdder;

/** Message counters across sessions, for inspection and tests. */
public final class SessionStats {
    final LongAdder messages = new LongAdder();
    final LongAdder errors = new LongAdder();
    final LongAdder sessions = new LongAdder();
    final LongAdder refused = new LongAdder();

    public long messages() {
        return messages.sum();
    }

    public long errors() {
        return errors.sum();
    }

    public long sessions() {
        return sessions.sum();
    }

    public long refusedConnections() {
        return refused.sum();
    }
}
