package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.wire.Message;

/** A reply and the one descriptor that may travel with it (GET_REGION_INFO's mmap fd). */
record Outcome(Message.Reply reply, Fd fd) {
    static Outcome of(Message.Reply reply) {
        return new Outcome(reply, null);
    }
}
