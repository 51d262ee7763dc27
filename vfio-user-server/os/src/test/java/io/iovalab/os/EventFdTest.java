package io.iovalab.os;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

class EventFdTest {

    @Test
    void reads_return_the_sum_of_adds_and_reset_the_counter() throws Exception {
        try (Fd ev = EventFd.create(true)) {
            assertEquals(0, EventFd.read(ev), "nothing added yet");
            EventFd.signal(ev);
            EventFd.add(ev, 3);
            EventFd.add(ev, 4);
            assertEquals(8, EventFd.read(ev));
            assertEquals(0, EventFd.read(ev), "a read resets the counter");
        }
    }

    @Test
    void flags_are_as_asked() throws Exception {
        try (Fd nb = EventFd.create(true); Fd b = EventFd.create(false)) {
            assertTrue(nb.isNonBlocking());
            assertFalse(b.isNonBlocking());
            assertTrue(nb.isCloexec());
            assertTrue(b.isCloexec());
        }
    }

    @Test
    void an_increment_the_kernel_would_reject_or_ignore_is_refused() throws Exception {
        try (Fd ev = EventFd.create(true)) {
            assertThrows(IllegalArgumentException.class, () -> EventFd.add(ev, 0));
            assertThrows(IllegalArgumentException.class, () -> EventFd.add(ev, -1L));
        }
    }

    @Test
    void poll_reports_which_descriptor_became_readable() throws Exception {
        try (Fd a = EventFd.create(true); Fd b = EventFd.create(true)) {
            assertEquals(-1, Poll.readable(0, a, b), "nothing signalled: timeout");
            EventFd.signal(b);
            assertEquals(1, Poll.readable(Poll.INFINITE, a, b));
            short[] rev = Poll.poll(0, new Fd[] {a, b}, new short[] {Poll.POLLIN, Poll.POLLIN});
            assertEquals(0, rev[0]);
            assertEquals(Poll.POLLIN, rev[1] & Poll.POLLIN);
            EventFd.read(b);
            assertEquals(-1, Poll.readable(0, a, b), "reading the counter makes it unreadable again");
        }
    }

    @Test
    void a_blocking_read_wakes_when_another_thread_signals() throws Exception {
        try (Fd ev = EventFd.create(false)) {
            Thread t = Thread.ofPlatform().start(() -> {
                try {
                    EventFd.add(ev, 42);
                } catch (OsException e) {
                    throw new RuntimeException(e);
                }
            });
            assertEquals(42, EventFd.read(ev));
            t.join();
        }
    }
}
