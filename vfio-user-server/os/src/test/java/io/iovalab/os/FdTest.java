package io.iovalab.os;

import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.*;

class FdTest {

    @Test
    void a_second_close_does_not_close_the_file_that_reused_the_number() throws Exception {
        Fd first = EventFd.create(true);
        int number = first.value();
        first.close();
        assertTrue(first.isClosed());
        try (Fd second = EventFd.create(true)) {
            assertEquals(number, second.value(), "the kernel hands out the lowest free number");
            first.close();
            EventFd.signal(second);
            assertEquals(1, EventFd.read(second), "second must still be open");
        }
    }

    @Test
    void dup_refers_to_the_same_file_and_is_cloexec() throws Exception {
        try (Fd ev = EventFd.create(true); Fd d = ev.dup()) {
            assertNotEquals(ev.value(), d.value());
            assertTrue(d.isCloexec());
            assertEquals(FileStat.of(ev).ino(), FileStat.of(d).ino());
            EventFd.add(ev, 9);
            assertEquals(9, EventFd.read(d));
        }
    }

    @Test
    void cloexec_and_nonblocking_can_be_switched() throws Exception {
        try (Fd ev = EventFd.create(false)) {
            ev.setCloexec(false);
            assertFalse(ev.isCloexec());
            ev.setCloexec(true);
            assertTrue(ev.isCloexec());
            ev.setNonBlocking(true);
            assertEquals(0, EventFd.read(ev), "non-blocking now: an empty counter reads as 0 instead of blocking");
        }
    }

    @Test
    void errno_messages_name_the_call_the_errno_and_its_number(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        OsException enoent = assertThrows(OsException.class, () -> UnixSocket.connect(dir.resolve("none")));
        assertEquals(Errno.ENOENT, enoent.errno());
        assertEquals("connect(" + dir.resolve("none") + ")", enoent.call());
        assertTrue(enoent.getMessage().startsWith("connect(" + dir.resolve("none") + "): ENOENT (2)"), enoent.getMessage());

        try (Fd ev = EventFd.create(true); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(16);
            OsException notSock = assertThrows(OsException.class, () -> UnixSocket.receive(ev, buf, 16, 1));
            assertEquals(Errno.ENOTSOCK, notSock.errno());
            assertTrue(notSock.getMessage().startsWith("recvmsg: ENOTSOCK (88)"), notSock.getMessage());
        }

        Fd closed = EventFd.create(true);
        closed.close();
        OsException ebadf = assertThrows(OsException.class, () -> FileStat.of(closed));
        assertTrue(ebadf.getMessage().startsWith("fstat: EBADF (9)"), ebadf.getMessage());

        assertEquals("EHOSTUNREACH", Errno.name(113), "names outside the built-in table come from libc");
    }

    @Test
    void open_fd_count_follows_opens_and_closes() throws Exception {
        int before = Process.openFdCount();
        Fd ev = EventFd.create(true);
        assertEquals(before + 1, Process.openFdCount());
        ev.close();
        assertEquals(before, Process.openFdCount());
    }

    @Test
    void io_helpers_move_whole_buffers_and_report_eof() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Fd a = pair[0]; Fd b = pair[1]; Arena arena = Arena.ofConfined()) {
            MemorySegment out = arena.allocateFrom("0123456789");
            Io.writeFully(a, out, "write");
            MemorySegment in = arena.allocate(out.byteSize());
            Io.readFully(b, in, "read");
            assertEquals(-1, out.mismatch(in));
            Io.writeFully(a, out.asSlice(0, 3), "write");
            a.close();
            java.io.EOFException eof = assertThrows(java.io.EOFException.class, () -> Io.readFully(b, in, "read"));
            assertTrue(eof.getMessage().contains("after 3 of 11 bytes"), eof.getMessage());
        }
    }
}
