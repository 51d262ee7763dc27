package io.iovalab.os;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class FdPassingTest {

    private static MemorySegment bytes(Arena a, String s) {
        byte[] b = s.getBytes(StandardCharsets.US_ASCII);
        MemorySegment seg = a.allocate(b.length);
        MemorySegment.copy(b, 0, seg, ValueLayout.JAVA_BYTE, 0, b.length);
        return seg;
    }

    private static String string(MemorySegment buf, long n) {
        return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.US_ASCII);
    }

    /** The received descriptors are the same kernel objects as the sent ones, not copies. */
    private static void assertSameObjects(Fd memfd, Fd ev1, Fd ev2, Fd[] got) throws Exception {
        assertEquals(3, got.length);
        for (int i = 0; i < 3; i++) {
            assertTrue(got[i].isCloexec(), "MSG_CMSG_CLOEXEC must mark received fds close-on-exec");
        }
        assertEquals(FileStat.of(memfd).ino(), FileStat.of(got[0]).ino());
        assertEquals(FileStat.of(memfd).dev(), FileStat.of(got[0]).dev());
        try (Arena a = Arena.ofConfined()) {
            MemorySegment mine = Mmap.map(memfd, 0, 4096, true, a);
            MemorySegment theirs = Mmap.map(got[0], 0, 4096, true, a);
            theirs.set(ValueLayout.JAVA_LONG, 8, 0x1122334455667788L);
            assertEquals(0x1122334455667788L, mine.get(ValueLayout.JAVA_LONG, 8));
        }
        EventFd.add(got[1], 5);
        assertEquals(5, EventFd.read(ev1));
        EventFd.add(ev2, 7);
        assertEquals(7, EventFd.read(got[2]));
    }

    @Test
    void socketpair_carries_memfd_and_eventfds_with_the_first_bytes() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Fd a = pair[0]; Fd b = pair[1];
             Fd memfd = Memfd.create("passing", 4096);
             Fd ev1 = EventFd.create(true);
             Fd ev2 = EventFd.create(true);
             Arena arena = Arena.ofConfined()) {
            UnixSocket.send(a, new MemorySegment[] {bytes(arena, "head"), bytes(arena, "-body")}, memfd, ev1, ev2);
            UnixSocket.send(a, new MemorySegment[] {bytes(arena, "next")});
            MemorySegment buf = arena.allocate(64);
            UnixSocket.Received r = UnixSocket.receive(b, buf, 9, 8);
            assertEquals("head-body", string(buf, r.bytes()));
            assertFalse(r.fdsTruncated());
            try {
                assertSameObjects(memfd, ev1, ev2, r.fds());
            } finally {
                Fd.closeAll(r.fds());
            }
            UnixSocket.Received next = UnixSocket.receive(b, buf, 64, 8);
            assertEquals("next", string(buf, next.bytes()));
            assertEquals(0, next.fds().length, "descriptors must arrive once, with their own message");
        }
    }

    @Test
    void listen_connect_accept_round_trip_with_peer_credentials(@TempDir Path dir) throws Exception {
        Path p = dir.resolve("rt.sock");
        try (Fd listener = UnixSocket.listen(p, 1);
             Fd client = UnixSocket.connect(p);
             Fd server = UnixSocket.accept(listener);
             Fd memfd = Memfd.create("rt", 4096);
             Fd ev1 = EventFd.create(false);
             Fd ev2 = EventFd.create(false);
             Arena arena = Arena.ofConfined()) {
            UnixSocket.PeerCredentials cred = UnixSocket.peer(server);
            assertEquals(new UnixSocket.PeerCredentials(Process.pid(), Process.uid(), Process.gid()), cred);
            assertTrue(server.isCloexec());
            UnixSocket.send(client, new MemorySegment[] {bytes(arena, "hello")}, memfd, ev1, ev2);
            MemorySegment buf = arena.allocate(16);
            UnixSocket.Received r = UnixSocket.receive(server, buf, 16, 3);
            try {
                assertEquals("hello", string(buf, r.bytes()));
                assertSameObjects(memfd, ev1, ev2, r.fds());
            } finally {
                Fd.closeAll(r.fds());
            }
            client.close();
            assertEquals(0, UnixSocket.receive(server, buf, 16, 3).bytes(), "end of stream after the peer closed");
        }
    }

    @Test
    void more_fds_than_the_control_buffer_holds_are_reported_and_nothing_leaks() throws Exception {
        int before = Process.openFdCount();
        Fd[] pair = UnixSocket.pair();
        Fd[] sent = new Fd[6];
        try (Fd a = pair[0]; Fd b = pair[1]; Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < sent.length; i++) {
                sent[i] = EventFd.create(true);
            }
            UnixSocket.send(a, new MemorySegment[] {bytes(arena, "x")}, sent);
            MemorySegment buf = arena.allocate(8);
            UnixSocket.Received r = UnixSocket.receive(b, buf, 8, 2);
            assertEquals(1, r.bytes());
            assertTrue(r.fdsTruncated(), "MSG_CTRUNC must be reported");
            assertEquals(2, r.fds().length, "the descriptors that fit are handed over");
            EventFd.signal(sent[1]);
            assertEquals(1, EventFd.read(r.fds()[1]), "and they are the first ones sent");
            Fd.closeAll(r.fds());

            UnixSocket.send(a, new MemorySegment[] {bytes(arena, "y")}, sent[0]);
            UnixSocket.Received none = UnixSocket.receive(b, buf, 8, 0);
            assertTrue(none.fdsTruncated(), "a receiver that accepts no fds is told some were dropped");
            assertEquals(0, none.fds().length);
        } finally {
            Fd.closeAll(sent);
        }
        assertEquals(before, Process.openFdCount(), "open descriptors before and after");
    }

    @Test
    void an_odd_limit_is_exact_although_the_control_buffer_has_room_for_one_more() throws Exception {
        int before = Process.openFdCount();
        Fd[] pair = UnixSocket.pair();
        try (Fd a = pair[0]; Fd b = pair[1]; Fd e1 = EventFd.create(true); Fd e2 = EventFd.create(true);
             Arena arena = Arena.ofConfined()) {
            UnixSocket.send(a, new MemorySegment[] {bytes(arena, "x")}, e1, e2);
            UnixSocket.Received r = UnixSocket.receive(b, arena.allocate(8), 8, 1);
            assertEquals(1, r.fds().length);
            assertTrue(r.fdsTruncated());
            Fd.closeAll(r.fds());
        }
        assertEquals(before, Process.openFdCount(), "the extra descriptor was closed");
    }

    @Test
    void a_large_message_through_small_buffers_arrives_whole_with_its_fd_first() throws Exception {
        Fd[] pair = UnixSocket.pair();
        int size = 3 << 20;
        try (Fd a = pair[0]; Fd b = pair[1]; Fd ev = EventFd.create(true); Arena arena = Arena.ofShared()) {
            UnixSocket.setSendBufferSize(a, 4096);
            UnixSocket.setReceiveBufferSize(b, 4096);
            MemorySegment out = arena.allocate(size);
            for (int i = 0; i < size; i += 4) {
                out.set(ValueLayout.JAVA_INT, i, i * 31);
            }
            CompletableFuture<Void> sender = CompletableFuture.runAsync(() -> {
                try {
                    UnixSocket.send(a, new MemorySegment[] {out.asSlice(0, 100), out.asSlice(100)}, ev);
                } catch (OsException e) {
                    throw new RuntimeException(e);
                }
            });
            MemorySegment in = arena.allocate(size);
            long got = 0;
            int reads = 0;
            int fdsSeen = 0;
            while (got < size) {
                UnixSocket.Received r = UnixSocket.receive(b, in.asSlice(got), size - got, 4);
                assertTrue(r.bytes() > 0);
                if (reads == 0) {
                    assertEquals(1, r.fds().length, "the fd comes with the first bytes");
                }
                fdsSeen += r.fds().length;
                Fd.closeAll(r.fds());
                got += r.bytes();
                reads++;
            }
            sender.get(30, TimeUnit.SECONDS);
            assertEquals(1, fdsSeen, "the fd is sent once, not with every partial send");
            assertTrue(reads > 1, "small buffers should have split the message");
            assertEquals(-1, out.mismatch(in));
        }
    }

    @Test
    void sending_a_closed_descriptor_is_refused() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Fd a = pair[0]; Fd b = pair[1]; Arena arena = Arena.ofConfined()) {
            Fd ev = EventFd.create(true);
            ev.close();
            assertThrows(IllegalArgumentException.class,
                    () -> UnixSocket.send(a, new MemorySegment[] {bytes(arena, "x")}, ev));
        }
    }
}
