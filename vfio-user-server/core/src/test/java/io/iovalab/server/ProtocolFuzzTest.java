package io.iovalab.server;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The short, CI-sized protocol fuzzing run (issue 12, point 1) against the NVMe controller (null
 * backend) and the example device; {@code bench/protocol-fuzz.sh} runs the long one. The seed is
 * fixed so a CI failure repeats; {@code -Dfuzz.seed=N} and {@code -Dfuzz.messages=N} change it.
 */
class ProtocolFuzzTest {
    static final long SEED = Long.getLong("fuzz.seed", 0x12_0001L);
    static final long MESSAGES = Long.getLong("fuzz.messages", 20_000);
    static final long HEAP_SLACK = 16L << 20;

    @ParameterizedTest
    @ValueSource(strings = {"nvme:backend=null,size=64M,queues=4,mqes=64", "dmacopy:vectors=4"})
    void every_message_is_answered_or_closed_as_the_spec_says_and_nothing_leaks(String device) throws Exception {
        try (TestServer s = new TestServer(device)) {
            ProtocolFuzzRun.Result r = new ProtocolFuzzRun(s.server, s.socket, SEED, 5_000).run(MESSAGES, 0);
            System.out.println(device + ": " + r);
            assertEquals(MESSAGES, r.messages());
            assertTrue(r.replies() > MESSAGES / 3, "most messages are answered: " + r);
            assertTrue(r.closes() > 0 && r.hangUps() >= 0, "the run includes messages the server must close on: " + r);
            assertEquals(0, s.server.stats().internalErrors(), "requests that made the server throw");
            assertEquals(0, s.server.stats().deviceThreadExceptions(), "exceptions on device threads");
            assertEquals(r.fdsBefore(), r.fdsAfter(), "open descriptors before and after: " + r);
            assertTrue(r.heapAfter() - r.heapBefore() < HEAP_SLACK, "heap after GC grew by more than 16 MiB: " + r);
        }
    }
}
