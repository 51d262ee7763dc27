package io.iovalab.transport;

import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.os.Process;
import io.iovalab.os.UnixSocket;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.iovalab.transport.Frames.body;
import static io.iovalab.transport.Frames.frame;
import static io.iovalab.transport.Frames.header;
import static io.iovalab.transport.Frames.ino;
import static org.junit.jupiter.api.Assertions.*;

class ConnectionTest {
    private static final int MAX = 1 << 20;

    private static void assertBody(RawFrame f, int length, byte fill) {
        assertEquals(length, f.body().remaining());
        for (int i = 0; i < length; i++) {
            assertEquals(fill, f.body().get(i), "body byte " + i + " of frame " + Frames.id(f));
        }
    }

    @Test
    void descriptors_arrive_with_their_own_frame() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Connection tx = Connection.of(pair[0], 0, MAX); Connection rx = Connection.of(pair[1], 4, MAX);
             Fd memfd = Memfd.create("frame-fd", 4096); Fd ev1 = EventFd.create(true); Fd ev2 = EventFd.create(true)) {
            tx.writeFrame(frame(1, 1, 10, (byte) 1), null);
            tx.writeFrame(new ByteBuffer[] {header(2, 2, 16 + 100), body(60, (byte) 2), body(40, (byte) 2)}, memfd);
            Frames.raw(pair[0], frame(3, 3, 5, (byte) 3), ev1, ev2);
            tx.writeFrame(frame(4, 4, 0, (byte) 0), null);

            RawFrame f1 = rx.readFrame();
            assertEquals(1, Frames.id(f1));
            assertEquals(26, f1.size());
            assertBody(f1, 10, (byte) 1);
            assertEquals(0, f1.fds().length);

            RawFrame f2 = rx.readFrame();
            assertEquals(2, Frames.id(f2));
            assertEquals(2, Frames.command(f2));
            assertBody(f2, 100, (byte) 2);
            assertEquals(1, f2.fds().length);
            assertEquals(ino(memfd), ino(f2.fds()[0]));
            f2.closeFds();

            RawFrame f3 = rx.readFrame();
            assertEquals(2, f3.fds().length);
            assertEquals(ino(ev1), ino(f3.fds()[0]));
            assertEquals(ino(ev2), ino(f3.fds()[1]));
            EventFd.add(f3.fds()[1], 5);
            assertEquals(5, EventFd.read(ev2), "the received fd is the sender's eventfd");
            f3.closeFds();

            RawFrame f4 = rx.readFrame();
            assertEquals(4, Frames.id(f4));
            assertEquals(0, f4.body().remaining());
            assertEquals(0, f4.fds().length);
        }
    }

    @Test
    void an_oversized_or_undersized_frame_is_refused_and_its_fds_closed() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Fd tx = pair[0]; Connection rx = Connection.of(pair[1], 4, 4096); Fd memfd = Memfd.create("big", 4096)) {
            int before = Process.openFdCount();
            Frames.raw(tx, header(9, 2, 4097), memfd);
            FrameSizeException big = assertThrows(FrameSizeException.class, rx::readFrame);
            assertFalse(big.recoverable(), "the body was not read: the stream is lost");
            assertEquals(4097, big.size());
            assertEquals(4096, big.limit());
            assertEquals(9, big.header().getShort(0));
            assertEquals(before, Process.openFdCount(), "the frame's fd was closed");
        }
        pair = UnixSocket.pair();
        try (Fd tx = pair[0]; Connection rx = Connection.of(pair[1], 4, 4096)) {
            Frames.raw(tx, header(10, 2, 8));
            FrameSizeException small = assertThrows(FrameSizeException.class, rx::readFrame);
            assertEquals(8, small.size());
            assertFalse(small.recoverable());
        }
    }

    @Test
    void too_many_fds_are_closed_and_the_stream_stays_in_sync() throws Exception {
        Fd[] pair = UnixSocket.pair();
        List<Fd> mine = new ArrayList<>();
        try (Fd tx = pair[0]; Connection rx = Connection.of(pair[1], 3, MAX)) {
            for (int i = 0; i < 9; i++) {
                mine.add(EventFd.create(true));
            }
            Fd[] nine = mine.toArray(Fd[]::new);
            int before = Process.openFdCount();

            // 4 fds still fit the control buffer of 3 (CMSG_SPACE rounds up); 9 do not (MSG_CTRUNC)
            Frames.raw(tx, frame(1, 2, 40, (byte) 1), java.util.Arrays.copyOf(nine, 4));
            Frames.raw(tx, frame(2, 2, 5000, (byte) 2), nine);
            Frames.raw(tx, frame(3, 2, 30, (byte) 3), java.util.Arrays.copyOf(nine, 3));
            // fds sent with the body instead of the first bytes
            Frames.raw(tx, header(4, 2, 16 + 20));
            Frames.raw(tx, body(20, (byte) 4), nine[0]);
            Frames.raw(tx, frame(5, 2, 7, (byte) 5));

            TooManyFdsException four = assertThrows(TooManyFdsException.class, rx::readFrame);
            assertTrue(four.recoverable());
            assertEquals(1, four.header().getShort(0));
            assertEquals("message carried more than 3 file descriptors", four.getMessage());
            TooManyFdsException nineFds = assertThrows(TooManyFdsException.class, rx::readFrame);
            assertEquals(2, nineFds.header().getShort(0));

            RawFrame ok = rx.readFrame();
            assertEquals(3, Frames.id(ok), "the refused frames were consumed whole");
            assertBody(ok, 30, (byte) 3);
            assertEquals(3, ok.fds().length);
            assertEquals(ino(nine[2]), ino(ok.fds()[2]));
            ok.closeFds();

            TooManyFdsException late = assertThrows(TooManyFdsException.class, rx::readFrame);
            assertEquals(4, late.header().getShort(0));
            assertTrue(late.getMessage().contains("after its first bytes"), late.getMessage());

            RawFrame last = rx.readFrame();
            assertEquals(5, Frames.id(last));
            assertBody(last, 7, (byte) 5);
            assertEquals(before, Process.openFdCount(), "open descriptors before and after");
        } finally {
            mine.forEach(Fd::close);
        }
    }

    @Test
    void concurrent_writers_never_interleave_frames() throws Exception {
        int threads = 4;
        int perThread = 150;
        Fd[] pair = UnixSocket.pair();
        // a small send buffer splits every large frame into many partial transfers
        UnixSocket.setSendBufferSize(pair[0], 4096);
        Fd[] marks = new Fd[threads];
        try (Connection tx = Connection.of(pair[0], 0, MAX); Connection rx = Connection.of(pair[1], 1, MAX)) {
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                marks[t] = EventFd.create(true);
                int writer = t;
                writers.add(CompletableFuture.runAsync(() -> {
                    try {
                        for (int i = 0; i < perThread; i++) {
                            int len = (i * 7919 + writer * 131) % 20000;
                            byte fill = (byte) (writer * 50 + i);
                            ByteBuffer[] parts = {header(i, writer, 16 + len), body(len / 3, fill), body(len - len / 3, fill)};
                            tx.writeFrame(parts, i % 10 == 0 ? marks[writer] : null);
                        }
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, r -> Thread.ofPlatform().start(r)));
            }
            int[] next = new int[threads];
            long[] markIno = new long[threads];
            for (int t = 0; t < threads; t++) {
                markIno[t] = ino(marks[t]);
            }
            for (int n = 0; n < threads * perThread; n++) {
                RawFrame f = rx.readFrame();
                int writer = Frames.command(f);
                int i = Frames.id(f);
                assertEquals(next[writer]++, i, "frames of one writer arrive in order");
                assertBody(f, (i * 7919 + writer * 131) % 20000, (byte) (writer * 50 + i));
                assertEquals(i % 10 == 0 ? 1 : 0, f.fds().length, "fd count of frame " + i + " of writer " + writer);
                if (f.fds().length == 1) {
                    assertEquals(markIno[writer], ino(f.fds()[0]), "the fd came with its own frame");
                }
                f.closeFds();
            }
            for (CompletableFuture<Void> w : writers) {
                w.get(60, TimeUnit.SECONDS);
            }
        } finally {
            Fd.closeAll(marks);
        }
    }

    @Test
    void a_frame_whose_size_field_disagrees_with_its_length_is_not_sent() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Connection tx = Connection.of(pair[0], 0, MAX); Connection rx = Connection.of(pair[1], 0, MAX)) {
            ByteBuffer lying = frame(1, 1, 50, (byte) 1);
            lying.putInt(4, 100);
            assertThrows(IllegalArgumentException.class, () -> tx.writeFrame(lying, null));
            assertThrows(IllegalArgumentException.class, () -> tx.writeFrame(ByteBuffer.allocate(8), null));
            tx.writeFrame(frame(2, 1, 3, (byte) 2), null);
            assertEquals(2, Frames.id(rx.readFrame()), "nothing of the refused frames reached the peer");
        }
    }

    @Test
    void end_of_stream_at_a_boundary_is_a_clean_peer_close() throws Exception {
        Fd[] pair = UnixSocket.pair();
        Connection tx = Connection.of(pair[0], 0, MAX);
        try (Connection rx = Connection.of(pair[1], 1, MAX)) {
            tx.writeFrame(frame(1, 1, 4, (byte) 1), null);
            tx.close();
            assertEquals(1, Frames.id(rx.readFrame()), "frames sent before the close are delivered");
            PeerClosedException e = assertThrows(PeerClosedException.class, rx::readFrame);
            assertFalse(e.midFrame());
            assertEquals("peer closed the connection", e.getMessage());
        }
    }

    @Test
    void end_of_stream_inside_a_frame_is_reported_and_its_fds_closed() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Connection rx = Connection.of(pair[1], 1, MAX); Fd ev = EventFd.create(true)) {
            int before = Process.openFdCount();
            ByteBuffer f = frame(1, 1, 100, (byte) 1);
            Frames.raw(pair[0], f.limit(60), ev);
            pair[0].close();
            PeerClosedException e = assertThrows(PeerClosedException.class, rx::readFrame);
            assertTrue(e.midFrame());
            assertTrue(e.getMessage().contains("inside a message body (44 of 100 bytes read)"), e.getMessage());
            assertEquals(before - 1, Process.openFdCount(), "the partial frame's fd was closed (and the sender's end is gone)");
        }
        pair = UnixSocket.pair();
        try (Connection rx = Connection.of(pair[1], 1, MAX)) {
            Frames.raw(pair[0], header(1, 1, 16).limit(10));
            pair[0].close();
            PeerClosedException e = assertThrows(PeerClosedException.class, rx::readFrame);
            assertTrue(e.midFrame());
            assertTrue(e.getMessage().contains("inside a message header"), e.getMessage());
        }
    }

    @Test
    void a_peer_that_closes_with_unread_data_is_a_peer_close_too() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Connection rx = Connection.of(pair[1], 1, MAX)) {
            rx.writeFrame(frame(1, 1, 8, (byte) 1), null); // the peer never reads this
            pair[0].close(); // ... so the kernel reports ECONNRESET instead of end of stream
            PeerClosedException e = assertThrows(PeerClosedException.class, rx::readFrame);
            assertFalse(e.midFrame());
            assertTrue(e.getMessage().contains("ECONNRESET"), e.getMessage());
        }
    }

    @Test
    void close_wakes_a_blocked_reader_and_stops_writers() throws Exception {
        Fd[] pair = UnixSocket.pair();
        try (Fd peer = pair[0]) {
            Connection rx = Connection.of(pair[1], 1, MAX);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread reader = Thread.ofPlatform().start(() -> {
                try {
                    rx.readFrame();
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            Blocked.awaitInside(reader, "io.iovalab.os.UnixSocket");
            rx.close();
            Throwable t = outcome.get(10, TimeUnit.SECONDS);
            assertInstanceOf(PeerClosedException.class, t);
            assertEquals("connection closed locally", t.getMessage());
            assertTrue(rx.isClosed());
            assertThrows(IOException.class, () -> rx.writeFrame(frame(1, 1, 0, (byte) 0), null));
            assertThrows(PeerClosedException.class, rx::readFrame);
            rx.close(); // twice is fine
        }
    }

    @Test
    void close_wakes_a_writer_blocked_on_a_full_socket() throws Exception {
        Fd[] pair = UnixSocket.pair();
        UnixSocket.setSendBufferSize(pair[0], 4096);
        try (Fd peer = pair[1]) {
            Connection tx = Connection.of(pair[0], 0, MAX);
            CompletableFuture<Throwable> outcome = new CompletableFuture<>();
            Thread writer = Thread.ofPlatform().start(() -> {
                try {
                    tx.writeFrame(frame(1, 1, 4 << 20, (byte) 1), null); // nobody reads: blocks
                    outcome.complete(null);
                } catch (Throwable t) {
                    outcome.complete(t);
                }
            });
            Blocked.awaitInside(writer, "io.iovalab.os.UnixSocket");
            CompletableFuture<Void> closing = CompletableFuture.runAsync(tx::close, r -> Thread.ofPlatform().start(r));
            assertInstanceOf(IOException.class, outcome.get(10, TimeUnit.SECONDS));
            closing.get(10, TimeUnit.SECONDS);
            assertTrue(tx.isClosed());
        }
    }
}
