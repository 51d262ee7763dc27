package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.os.OsException;
import io.iovalab.os.Process;
import io.iovalab.wire.Command;
import io.iovalab.wire.Message.*;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.iovalab.server.MalformedInputTest.body;
import static io.iovalab.server.MalformedInputTest.errno;
import static io.iovalab.server.MalformedInputTest.frame;
import static io.iovalab.wire.Message.*;
import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Issue 12, point 4: everything a client can make the server hold is bounded, and the bound is
 * enforced with an error (or, for a stream that cannot be framed, a closed connection), not with
 * memory; and only the server's own uid may connect.
 */
class LimitsTest {
    static final int RW = VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE;
    static final int ENOSPC = 28;
    static final int E2BIG = 7;

    @Test
    void dma_maps_beyond_the_limit_are_refused_with_enospc() throws Exception {
        int limit = 32;
        try (TestServer s = new TestServer("dmacopy", o -> new ServerOptions(o.socket(), o.device(), o.name(), o.maxMsgFds(),
                o.maxDataXferSize(), limit)); GuestRam ram = new GuestRam(1 << 20); VfioUserClient c = s.connect()) {
            assertEquals(limit, c.version().capabilities().maxDmaMaps(), "the limit is what VERSION advertises");
            for (int i = 0; i < limit; i++) {
                long iova = 0x100000L + 0x1000L * i;
                // half with the memfd, half without (served by DMA_READ/WRITE): both count
                c.call(Command.DMA_MAP, new DmaMap(32, RW, 0x1000L * i, iova, 0x1000), i % 2 == 0 ? new Fd[] {ram.fd} : new Fd[0]);
            }
            VfioUserClient.ErrorReply e = assertThrows(VfioUserClient.ErrorReply.class,
                    () -> c.call(Command.DMA_MAP, new DmaMap(32, RW, 0, 0x900000, 0x1000), ram.fd));
            assertEquals(ENOSPC, e.errno);
            assertEquals(limit, s.server.iovaSpace().liveMappings());
            c.call(Command.DMA_UNMAP, new DmaUnmap(24, 0, 0x100000, 0x1000));
            c.call(Command.DMA_MAP, new DmaMap(32, RW, 0, 0x900000, 0x1000), ram.fd); // room for one again
            assertThrows(VfioUserClient.ErrorReply.class, () -> c.call(Command.DMA_MAP, new DmaMap(32, RW, 0, 0xa00000, 0x1000)));
            assertEquals(limit, s.server.iovaSpace().liveMappings());
        }
    }

    @Test
    void messages_and_transfers_above_max_data_xfer_size_are_refused() throws Exception {
        int max = 4096;
        try (TestServer s = new TestServer("dmacopy", o -> new ServerOptions(o.socket(), o.device(), o.name(), o.maxMsgFds(),
                max, o.maxDmaMaps()))) {
            try (VfioUserClient c = s.connect()) {
                assertEquals(max, c.version().capabilities().maxDataXferSize());
                // the largest transfer is served, one byte more is E2BIG, and the session goes on
                assertEquals(max, ((RegionReadReply) c.call(Command.REGION_READ,
                        new RegionRead(0, VFIO_PCI_CONFIG_REGION_INDEX, max))).data().length);
                assertEquals(E2BIG, errno(c, 1, frame(1, Command.REGION_READ.number, 0, 32,
                        body(16, b -> b.putLong(0, 0).putInt(8, VFIO_PCI_CONFIG_REGION_INDEX).putInt(12, max + 1)))));
                assertEquals(E2BIG, errno(c, 2, frame(2, Command.REGION_WRITE.number, 0, 32 + max + 1,
                        body(16 + max + 1, b -> b.putLong(0, 0).putInt(8, VFIO_PCI_CONFIG_REGION_INDEX).putInt(12, max + 1)))));
                c.call(Command.DEVICE_GET_INFO, new DeviceGetInfo(16));
            }
            // a frame above max + header room: the server reads no further and closes; it never
            // allocates what the size field claims
            for (int declared : new int[] {max + 64 + 1, -1}) {
                try (VfioUserClient c = s.connect()) {
                    c.version();
                    c.rawNoReply(frame(3, Command.REGION_WRITE.number, 0, declared, new byte[0]));
                    assertTrue(c.closedByServer(5000), "closed after a frame of " + Integer.toUnsignedString(declared));
                }
            }
            try (VfioUserClient c = s.connect()) {
                c.version();
            }
        }
    }

    @Test
    void counts_inside_a_message_are_checked_before_anything_is_allocated_for_them() throws Exception {
        try (TestServer s = new TestServer("dmacopy:vectors=4"); VfioUserClient c = s.connect()) {
            c.version();
            int trigger = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
            assertEquals(22, errno(c, 1, frame(1, Command.DEVICE_SET_IRQS.number, 0, 36, body(20, b -> b.putInt(0, 20)
                    .putInt(4, trigger).putInt(8, 4).putInt(12, 0).putInt(16, Integer.MAX_VALUE)))), "2^31-1 MSI-X vectors");
            assertEquals(22, errno(c, 2, frame(2, Command.DEVICE_SET_IRQS.number, 0, 36, body(20, b -> b.putInt(0, 20)
                    .putInt(4, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER).putInt(8, 4).putInt(12, 0)
                    .putInt(16, 1 << 30)))), "a bool array the message does not carry");
            assertEquals(22, errno(c, 3, frame(3, Command.REGION_WRITE_MULTI.number, 0, 24, body(8, b -> b.putLong(0, 201)))),
                    "REGION_WRITE_MULTI above VFIO_USER_MULTI_MAX");
            assertEquals(22, errno(c, 4, frame(4, Command.DEVICE_GET_IRQ_INFO.number, 0, 32, body(16, b -> b.putInt(0, 16)
                    .putInt(4, 0).putInt(8, 1 << 20)))), "an irq index that does not exist");
            c.call(Command.DEVICE_GET_INFO, new DeviceGetInfo(16));
        }
    }

    @Test
    void outstanding_dma_requests_to_the_client_are_bounded() throws Exception {
        // a client that never answers: the device threads may not pile up requests without end
        int max = 4;
        AtomicInteger sent = new AtomicInteger();
        RemoteDmaChannel ch = new RemoteDmaChannel((id, write, address, count, data) -> sent.incrementAndGet(), 4096, max, 300);
        int threads = 12;
        CountDownLatch done = new CountDownLatch(threads);
        List<String> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        AtomicInteger highWater = new AtomicInteger();
        for (int i = 0; i < threads; i++) {
            Thread.ofPlatform().start(() -> {
                try (Arena a = Arena.ofConfined()) {
                    ch.read(0x1000, a.allocate(64), 0, 64);
                } catch (IOException e) {
                    errors.add(e.getMessage());
                } finally {
                    done.countDown();
                }
            });
        }
        long deadline = System.nanoTime() + 2_000_000_000L;
        while (done.getCount() > 0 && System.nanoTime() < deadline) {
            highWater.accumulateAndGet(ch.outstanding(), Math::max);
            Thread.onSpinWait();
        }
        assertTrue(done.await(5, TimeUnit.SECONDS), "every request ends with an error in bounded time");
        assertTrue(highWater.get() <= max, "outstanding requests peaked at " + highWater.get());
        assertEquals(threads, errors.size(), "each unanswered request is an error for its device thread: " + errors);
        assertTrue(sent.get() <= threads, "requests sent: " + sent.get());
        assertEquals(0, ch.outstanding(), "nothing stays pending");
        ch.close();
    }

    @Test
    void a_device_reset_does_not_wait_for_dma_replies_only_its_own_thread_could_read() throws Exception {
        // the NVMe admin SQ lives in a map without fd: the worker fetches it with DMA_READ, and the
        // client takes its time to answer; a DEVICE_RESET arriving meanwhile must not wait for it
        try (TestServer s = new TestServer("nvme:backend=null,size=16M"); VfioUserClient c = s.connect()) {
            c.serveDma(new VfioUserClient.GuestMemory() {
                @Override
                public byte[] read(long address, int count) throws IOException {
                    try {
                        Thread.sleep(300);
                    } catch (InterruptedException e) {
                        throw new IOException(e);
                    }
                    return new byte[count];
                }

                @Override
                public void write(long address, byte[] data) {
                }
            });
            NvmeGuest g = new NvmeGuest(c, null);
            c.call(Command.DMA_MAP, new DmaMap(32, RW, 0, 0x100000, 0x10000));
            g.reg(0x24, 15 | 15 << 16);
            g.reg(0x28, 0x100000);
            g.reg(0x30, 0x101000);
            g.reg(0x14, 1 | 6 << 16 | 4 << 20);
            g.awaitCsts(NvmeGuest.CSTS_RDY, NvmeGuest.CSTS_RDY);
            g.ring(0, 15);
            long t0 = System.nanoTime();
            while (c.dmaRequestsServed() == 0 && System.nanoTime() - t0 < 5_000_000_000L) {
                Thread.onSpinWait(); // the worker is waiting for its first DMA_READ reply
            }
            long t1 = System.nanoTime();
            c.call(Command.DEVICE_RESET, new DeviceReset());
            long millis = (System.nanoTime() - t1) / 1_000_000;
            assertTrue(millis < 2000, "DEVICE_RESET answered after " + millis + " ms");
            assertTrue(c.dmaRequestsServed() > 0, "the worker was waiting on a DMA_READ when the reset came");
            // (BAR0 reads all-ones now: the reset cleared memory decode)
            assertEquals("0x00000000", s.server.device().inspect().get("csts"), "the controller is reset");
        }
    }

    @Test
    void the_fd_cache_unmaps_files_no_map_uses_once_past_its_bound() throws Exception {
        DmaFileCache cache = new DmaFileCache();
        List<MappedFile> live = new ArrayList<>();
        List<Fd> fds = new ArrayList<>();
        try {
            for (int i = 0; i < 300; i++) {
                Fd fd = Memfd.create("cache-" + i, 4096);
                fds.add(fd);
                MappedFile f = cache.acquire(fd, 0, 4096);
                assertNotNull(f);
                if (i % 50 == 0) {
                    live.add(f); // still mapped by an IOVA map
                } else {
                    f.release(); // the map went away again
                }
                fds.removeLast().close();
            }
            assertTrue(cache.size() <= 2 * DmaFileCache.SWEEP_AT, "files kept: " + cache.size());
            for (MappedFile f : live) {
                f.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, 0, (byte) 1); // still mapped
                f.release();
            }
        } finally {
            cache.clear();
            fds.forEach(Fd::close);
        }
    }

    @Test
    void a_mapped_memfd_cannot_be_shrunk_under_the_server() throws Exception {
        try (TestServer s = new TestServer("dmacopy"); GuestRam ram = new GuestRam(1 << 20); VfioUserClient c = s.connect()) {
            c.version();
            c.call(Command.DMA_MAP, new DmaMap(32, RW, 0, 0x100000, 1 << 20), ram.fd);
            // a shrink would turn the server's next access into SIGBUS; the map sealed it
            OsException e = assertThrows(OsException.class, () -> Memfd.truncate(ram.fd, 0));
            assertEquals(1, e.errno(), "EPERM");
            Memfd.truncate(ram.fd, 2 << 20); // growing is harmless
        }
    }

    @Test
    void socket_is_0600_and_a_client_of_another_uid_is_refused() throws Exception {
        Path setpriv = Path.of("/usr/bin/setpriv");
        Path python = Path.of("/usr/bin/python3");
        assumeTrue(Process.uid() == 0 && Files.isExecutable(setpriv) && Files.isExecutable(python),
                "needs root, setpriv and python3 to connect as another uid");
        try (TestServer s = new TestServer("dmacopy")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(s.socket)));
            Files.setPosixFilePermissions(s.dir, PosixFilePermissions.fromString("rwx--x--x"));
            assertEquals("EACCES", connectAs(65534, s.socket), "the file mode keeps other users out");

            // past the file mode (a socket made reachable by hand): SO_PEERCRED shuts the door
            Files.setPosixFilePermissions(s.socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            assertEquals("closed", connectAs(65534, s.socket));
            assertEquals(1, s.server.stats().refusedConnections());
            assertEquals(0, s.server.stats().sessions(), "no session was served to the other uid");
            try (VfioUserClient c = s.connect()) {
                c.version(); // the server's own uid still gets in
            }
        }
    }

    /** Connects as {@code uid} and sends a VERSION: prints EACCES, closed or answered. */
    private static String connectAs(int uid, Path socket) throws Exception {
        String script = """
                import socket, struct, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    s.connect(sys.argv[1])
                except PermissionError:
                    print("EACCES"); sys.exit(0)
                body = struct.pack('<HH', 0, 0) + b'{}\\0'
                s.settimeout(10)
                try:
                    s.sendall(struct.pack('<HHIII', 1, 1, 16 + len(body), 0, 0) + body)
                    print("answered" if s.recv(64) else "closed")
                except (ConnectionResetError, BrokenPipeError):
                    print("closed")
                """;
        java.lang.Process p = new ProcessBuilder("/usr/bin/setpriv", "--reuid=" + uid, "--regid=" + uid, "--clear-groups",
                "/usr/bin/python3", "-c", script, socket.toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "the client process ended");
        return new String(p.getInputStream().readAllBytes()).strip();
    }
}
