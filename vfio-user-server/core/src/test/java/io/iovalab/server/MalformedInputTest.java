package io.iovalab.server;

import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.Process;
import io.iovalab.wire.Command;
import io.iovalab.wire.Header;
import io.iovalab.wire.Message.*;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

import static io.iovalab.wire.Message.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Every kind of bad input gets an error reply or a closed connection, the server keeps serving,
 * and no descriptor leaks.
 */
class MalformedInputTest {
    static ByteBuffer frame(int id, int command, int flags, int declaredSize, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(16 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        new Header(id, command, declaredSize, flags, 0).encode(b);
        b.position(16);
        b.put(body);
        b.flip();
        return b;
    }

    static byte[] body(int size, java.util.function.Consumer<ByteBuffer> fill) {
        ByteBuffer b = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        fill.accept(b);
        return b.array();
    }

    static int errno(VfioUserClient c, int id, ByteBuffer frame, Fd... fds) throws Exception {
        try {
            c.raw(id, frame, fds);
            return 0;
        } catch (VfioUserClient.ErrorReply e) {
            return e.errno;
        }
    }

    @Test
    void bad_messages_get_errors_and_the_server_keeps_serving_without_leaking_fds() throws Exception {
        try (TestServer s = new TestServer("dmacopy"); GuestRam ram = new GuestRam(1 << 20)) {
            // warm up the JVM's own descriptors (class loading, jars) before counting
            try (VfioUserClient c = s.connect()) {
                c.version();
            }
            awaitSessions(s, 1);
            int fdsBefore = Process.openFdCount();

            try (VfioUserClient c = s.connect()) {
                // bad JSON in VERSION
                byte[] json = "{\"capabilities\": [1,2]}\0".getBytes(StandardCharsets.UTF_8);
                byte[] vb = new byte[4 + json.length];
                System.arraycopy(json, 0, vb, 4, json.length);
                assertEquals(22, errno(c, 1, frame(1, 1, 0, 16 + vb.length, vb)));
                byte[] noNul = "{}".getBytes(StandardCharsets.UTF_8);
                byte[] vb2 = new byte[4 + noNul.length];
                System.arraycopy(noNul, 0, vb2, 4, noNul.length);
                assertEquals(22, errno(c, 2, frame(2, 1, 0, 16 + vb2.length, vb2)));
                // anything before VERSION is refused
                assertEquals(22, errno(c, 3, frame(3, Command.DEVICE_GET_INFO.number, 0, 32, new byte[16])));
                c.version();

                // unknown command
                assertEquals(38, errno(c, 4, frame(4, 99, 0, 16, new byte[0])));
                // body shorter than the command's fixed part
                assertEquals(22, errno(c, 5, frame(5, Command.DMA_MAP.number, 0, 24, new byte[8])));
                // REGION_WRITE whose count disagrees with its data
                assertEquals(22, errno(c, 6, frame(6, Command.REGION_WRITE.number, 0, 16 + 16 + 8,
                        body(24, b -> b.putLong(0, 8).putInt(8, 0).putInt(12, 4)))));
                // region index out of range, and an access beyond a region
                assertEquals(22, errno(c, 7, frame(7, Command.REGION_READ.number, 0, 32,
                        body(16, b -> b.putLong(0, 0).putInt(8, 12).putInt(12, 4)))));
                assertEquals(22, errno(c, 8, frame(8, Command.REGION_READ.number, 0, 32,
                        body(16, b -> b.putLong(0, 4094).putInt(8, 0).putInt(12, 4)))));
                // too many fds for the command: DMA_MAP takes one, and both are closed by the server
                Fd e1 = EventFd.create(false);
                Fd e2 = EventFd.create(false);
                assertEquals(22, errno(c, 9, frame(9, Command.DMA_MAP.number, 0, 48,
                        body(32, b -> b.putInt(0, 32).putInt(4, 3).putLong(16, 0x100000).putLong(24, 0x1000))), e1, e2));
                e1.close();
                e2.close();
                // more fds than max_msg_fds (16): the kernel drops the rest, the server answers EINVAL
                Fd[] many = new Fd[20];
                for (int i = 0; i < many.length; i++) {
                    many[i] = EventFd.create(false);
                }
                assertEquals(22, errno(c, 10, frame(10, Command.DEVICE_SET_IRQS.number, 0, 36,
                        body(20, b -> b.putInt(0, 20).putInt(4, 0x24).putInt(8, 2).putInt(12, 0).putInt(16, 20))), many));
                for (Fd f : many) {
                    f.close();
                }
                // a DMA_MAP overlapping an existing one
                c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x100000, 0x4000), ram.fd);
                IOExceptionAssert.errno(17, () -> c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x102000, 0x4000), ram.fd));
                // DEVICE_FEATURE: a clean error, not silence
                IOExceptionAssert.errno(22, () -> c.call(Command.DEVICE_FEATURE, new DeviceFeature(8, 0x10001, new byte[0])));
                // a posted (NO_REPLY) bad message gets no reply; the next request still does
                c.rawNoReply(frame(11, 99, Header.NO_REPLY, 16, new byte[0]));
                assertEquals(0, ((DeviceInfo) c.call(Command.DEVICE_GET_INFO, new DeviceGetInfo(16))).numRegions() - 9);
            }

            // a size below the header: the stream cannot be trusted, the connection is closed
            try (VfioUserClient c = s.connect()) {
                c.version();
                c.rawNoReply(frame(12, Command.DEVICE_GET_INFO.number, 0, 8, new byte[0]));
                assertTrue(c.closedByServer(5000), "server closed the connection");
            }
            // an oversized message: closed as well
            try (VfioUserClient c = s.connect()) {
                c.version();
                c.rawNoReply(frame(13, Command.REGION_WRITE.number, 0, 256 << 20, new byte[16]));
                assertTrue(c.closedByServer(5000), "server closed the connection");
            }
            // and the server still serves
            try (VfioUserClient c = s.connect()) {
                c.version();
                assertEquals(5, ((DeviceInfo) c.call(Command.DEVICE_GET_INFO, new DeviceGetInfo(16))).numIrqs());
            }
            awaitSessions(s, 5);
            awaitNoMaps(s);
            assertEquals(fdsBefore, Process.openFdCount(), "open descriptors before and after");
            assertTrue(s.server.stats().errors() >= 12);
        }
    }

    static void awaitSessions(TestServer s, int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline && (s.server.stats().sessions() < n || s.server.iovaSpace().liveMappings() > 0)) {
            Thread.sleep(10);
        }
        Thread.sleep(100); // the session's clean-up runs right after the client is gone
    }

    static void awaitNoMaps(TestServer s) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (System.nanoTime() < deadline && s.server.iovaSpace().liveMappings() > 0) {
            Thread.sleep(10);
        }
    }
}
