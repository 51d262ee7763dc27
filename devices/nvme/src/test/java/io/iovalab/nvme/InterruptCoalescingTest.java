package io.iovalab.nvme;

import io.iovalab.spi.DeviceEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** Set Features 08h / 09h as a driver uses them: when the I/O CQ's interrupt comes, relative to its completions. */
class InterruptCoalescingTest {
    static final int THR_SHIFT = 0;
    static final int TIME_SHIFT = 8;
    TestHost host;

    @BeforeEach
    void setUp() throws Exception {
        host = new TestHost().start();
    }

    @AfterEach
    void tearDown() {
        host.close();
    }

    private void coalesce(int thr, int time) {
        assertEquals(0, host.admin(Opcodes.SET_FEATURES, 0, 0, Features.INTERRUPT_COALESCING,
                thr << THR_SHIFT | time << TIME_SHIFT).status());
    }

    private long completionToInterruptNanos(int completions) {
        List<DeviceEvent> done = host.awaitEvents(DeviceEvent.COMPLETION, 1, completions);
        List<DeviceEvent> irq = host.awaitEvents(DeviceEvent.INTERRUPT, 1, 1);
        assertEquals(1, irq.size(), "one interrupt for CQ 1");
        return irq.getFirst().timeNanos() - done.get(completions - 1).timeNanos();
    }

    @Test
    void a_lone_completion_waits_for_the_aggregation_time() {
        coalesce(7, 255); // 8 entries or 25.5 ms
        host.io(Opcodes.READ, 0, 8, 0);
        assertNotNull(host.next(1), "the completion entry is posted at once");
        long waited = completionToInterruptNanos(1);
        assertTrue(waited >= 25_000_000, "interrupt " + waited / 1000 + " us after the completion, want >= 25.5 ms");
    }

    @Test
    void the_threshold_raises_the_interrupt_before_the_time_runs_out() {
        coalesce(1, 255); // 2 entries or 25.5 ms
        host.io(Opcodes.READ, 0, 8, 0);
        host.io(Opcodes.READ, 8, 8, 1);
        assertNotNull(host.next(1));
        assertNotNull(host.next(1));
        long waited = completionToInterruptNanos(2);
        assertTrue(waited < 20_000_000, "interrupt " + waited / 1000 + " us after the second completion");
    }

    @Test
    void coalescing_disable_on_the_vector_and_the_admin_queue_are_never_delayed() {
        coalesce(7, 255);
        // Feature 09h: IV 1 (CQ 1's vector) with CD set
        assertEquals(0, host.admin(Opcodes.SET_FEATURES, 0, 0, Features.INTERRUPT_VECTOR_CONFIGURATION, 1 | 1 << 16).status());
        assertEquals(1 | 1 << 16, host.admin(Opcodes.GET_FEATURES, 0, 0, Features.INTERRUPT_VECTOR_CONFIGURATION, 1).dw0());
        assertEquals(7 | 255 << 8, host.admin(Opcodes.GET_FEATURES, 0, 0, Features.INTERRUPT_COALESCING, 0).dw0());
        host.io(Opcodes.READ, 0, 8, 0);
        assertNotNull(host.next(1));
        assertTrue(completionToInterruptNanos(1) < 20_000_000, "CD: not coalesced");
        List<DeviceEvent> admin = host.awaitEvents(DeviceEvent.INTERRUPT, 0, 4);
        List<DeviceEvent> adminDone = host.awaitEvents(DeviceEvent.COMPLETION, 0, 4);
        assertTrue(admin.getLast().timeNanos() - adminDone.getLast().timeNanos() < 20_000_000, "admin CQ: not coalesced");
    }

    @Test
    void a_controller_reset_turns_coalescing_off() {
        coalesce(7, 255);
        host.disable();
        host.start();
        assertEquals(0, host.admin(Opcodes.GET_FEATURES, 0, 0, Features.INTERRUPT_COALESCING, 0).dw0());
    }
}
