package io.iovalab.server;

import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.os.Mmap;
import io.iovalab.os.UnixSocket;
import io.iovalab.pci.PciRegs;
import io.iovalab.wire.Capabilities;
import io.iovalab.wire.Command;
import io.iovalab.wire.Header;
import io.iovalab.wire.Message.*;
import io.iovalab.wire.MessageEncoder;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static io.iovalab.wire.Message.*;

/**
 * Client messages for protocol fuzzing: valid ones (what QEMU sends, with plausible and
 * implausible arguments), mutations of valid ones (bytes, command, flags, size field, length) and
 * random frames — with and without descriptors (memfds, an empty memfd, eventfds, a socket).
 * Every case says what the spec prescribes in answer: a reply (or error reply), nothing (posted
 * or reply-typed messages), or a closed connection (a size field outside [16, max]).
 * Deterministic for a given {@link Random}.
 */
final class MessageFuzzer implements AutoCloseable {
    /** What the server must do with a case. */
    enum Expect { REPLY, NONE, CLOSE }

    /** One message as it goes on the wire. {@code hangUp}: the client sends part of it and disconnects. */
    record Case(String kind, ByteBuffer frame, Fd[] fds, Expect expect, boolean hangUp) {
        String describe() {
            ByteBuffer f = frame.duplicate();
            byte[] b = new byte[Math.min(f.remaining(), 96)];
            f.get(b);
            return kind + " " + Header.decode(frame.duplicate()) + " fds=" + fds.length + (hangUp ? " hang-up" : "")
                    + " expect " + expect + " bytes[" + frame.remaining() + "]=" + HexFormat.of().formatHex(b)
                    + (frame.remaining() > b.length ? "..." : "");
        }
    }

    static final long IOVA_WINDOW = 1L << 24;
    private static final int RAM_SIZE = 1 << 16;
    private static final int[] WIDTHS = {1, 2, 4, 8};

    private final Random rnd;
    private final int maxMessageSize;
    private final MessageEncoder encoder = new MessageEncoder();
    private final Fd ram;
    /** the fuzzer's own view of {@link #ram}: what the device finds there is scribbled, as a guest could */
    private final Arena arena = Arena.ofShared();
    private final MemorySegment ramView;
    private final Fd emptyMemfd;
    private final Fd[] eventfds = new Fd[4];
    private final Fd[] socketPair;

    MessageFuzzer(Random rnd, int maxMessageSize) throws Exception {
        this.rnd = rnd;
        this.maxMessageSize = maxMessageSize;
        this.ram = Memfd.create("fuzz-ram", RAM_SIZE);
        this.ramView = Mmap.map(ram, 0, RAM_SIZE, true, arena);
        this.emptyMemfd = Memfd.create("fuzz-empty", 0);
        for (int i = 0; i < eventfds.length; i++) {
            eventfds[i] = EventFd.create(true);
        }
        this.socketPair = UnixSocket.pair();
    }

    /** A VERSION the server accepts, as a session starts. */
    Case version(int id) {
        return new Case("version", encoder.encodeRequest(id, Command.VERSION,
                new Version(0, rnd.nextInt(3), new Capabilities(16, 1 << 20, 4096, 65535, false)), false), new Fd[0],
                Expect.REPLY, false);
    }

    Case next(int id) {
        int p = rnd.nextInt(100);
        Case c;
        if (p < 45) {
            c = valid(id);
        } else if (p < 85) {
            c = mutate(valid(id));
        } else {
            c = random(id);
        }
        if (c.expect != Expect.CLOSE && rnd.nextInt(2000) == 0) {
            return new Case(c.kind, c.frame, c.fds, Expect.NONE, true);
        }
        return c;
    }

    // ------------------------------------------------------------------ valid

    private Case valid(int id) {
        boolean posted = rnd.nextInt(10) == 0;
        Fd[] fds = new Fd[0];
        Request r;
        Command cmd;
        switch (rnd.nextInt(17)) {
            case 16 -> {
                // an NVMe bring-up with the rings in the fuzzer's memfd (if it is mapped there), whose
                // contents are scribbled first: the controller then walks random SQEs, PRPs and SGLs
                cmd = Command.REGION_WRITE_MULTI;
                scribble();
                long base = 4096L * rnd.nextInt((int) (IOVA_WINDOW / 4096));
                int sizes = rnd.nextInt(4) == 0 ? rnd.nextInt() : (1 + rnd.nextInt(63)) * 0x10001;
                r = new RegionWriteMulti(List.of(new Write(0x14, 0, 4, 0), new Write(0x24, 0, 4, sizes),
                        new Write(0x28, 0, 8, base), new Write(0x30, 0, 8, base + 0x1000),
                        new Write(0x14, 0, 4, 1 | 6 << 16 | 4 << 20), new Write(0x1000, 0, 4, 1 + rnd.nextInt(63))));
            }
            case 0 -> {
                cmd = Command.VERSION;
                r = new Version(rnd.nextInt(10) == 0 ? 1 : 0, rnd.nextInt(3),
                        new Capabilities(1 + rnd.nextInt(16), 4096L << rnd.nextInt(10), 4096, 1 + rnd.nextInt(65535), rnd.nextBoolean()));
            }
            case 1, 2 -> {
                cmd = Command.DMA_MAP;
                long size = 4096L * (1 + rnd.nextInt(16));
                long offset = rnd.nextInt(8) == 0 ? 4096L * rnd.nextInt(32) : 0;
                int flags = rnd.nextInt(8) == 0 ? rnd.nextInt(8) : VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE;
                r = new DmaMap(32, flags, offset, iova(), rnd.nextInt(20) == 0 ? rnd.nextLong() : size);
                fds = switch (rnd.nextInt(6)) {
                    case 0 -> new Fd[0];                    // no fd: served by DMA_READ/DMA_WRITE
                    case 1 -> new Fd[] {emptyMemfd};
                    case 2 -> new Fd[] {eventfds[0]};       // not mappable
                    case 3 -> new Fd[] {socketPair[0]};
                    default -> new Fd[] {ram};
                };
            }
            case 3 -> {
                cmd = Command.DMA_UNMAP;
                boolean all = rnd.nextInt(8) == 0;
                r = all ? new DmaUnmap(24, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0)
                        : new DmaUnmap(24, rnd.nextInt(16) == 0 ? rnd.nextInt(4) : 0, iova(), 4096L * (1 + rnd.nextInt(32)));
            }
            case 4 -> {
                cmd = Command.DEVICE_GET_INFO;
                r = new DeviceGetInfo(16);
            }
            case 5 -> {
                cmd = Command.DEVICE_GET_REGION_INFO;
                r = new DeviceGetRegionInfo(rnd.nextBoolean() ? 32 : 32 + 16 * rnd.nextInt(8), rnd.nextInt(11) - 1);
            }
            case 6 -> {
                cmd = rnd.nextBoolean() ? Command.DEVICE_GET_IRQ_INFO : Command.DEVICE_GET_REGION_IO_FDS;
                r = cmd == Command.DEVICE_GET_IRQ_INFO ? new DeviceGetIrqInfo(16, rnd.nextInt(7) - 1)
                        : new DeviceGetRegionIoFds(16, 0, rnd.nextInt(10), 0);
            }
            case 7 -> {
                cmd = Command.DEVICE_SET_IRQS;
                int index = rnd.nextInt(6);
                int start = rnd.nextInt(4);
                switch (rnd.nextInt(4)) {
                    case 0 -> {
                        int n = 1 + rnd.nextInt(3);
                        fds = new Fd[n];
                        System.arraycopy(eventfds, 0, fds, 0, n);
                        r = new DeviceSetIrqs(20, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, index, start, n, new byte[0]);
                    }
                    case 1 -> r = new DeviceSetIrqs(20, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, index, 0, 0, new byte[0]);
                    case 2 -> r = new DeviceSetIrqs(20, VFIO_IRQ_SET_DATA_NONE
                            | (rnd.nextBoolean() ? VFIO_IRQ_SET_ACTION_MASK : VFIO_IRQ_SET_ACTION_UNMASK), index, start, 1, new byte[0]);
                    default -> {
                        int n = 1 + rnd.nextInt(4);
                        byte[] bools = new byte[n];
                        rnd.nextBytes(bools);
                        r = new DeviceSetIrqs(20 + n, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER, index, start, n, bools);
                    }
                }
            }
            case 8, 9 -> {
                cmd = Command.REGION_READ;
                int region = region();
                int count = region == VFIO_PCI_CONFIG_REGION_INDEX && rnd.nextInt(4) == 0 ? rnd.nextInt(4097)
                        : WIDTHS[rnd.nextInt(4)];
                r = new RegionRead(offset(region), region, count);
            }
            case 10, 11, 12 -> {
                cmd = Command.REGION_WRITE;
                int region = region();
                byte[] data = new byte[WIDTHS[rnd.nextInt(4)]];
                rnd.nextBytes(data);
                long offset = offset(region);
                if (region == VFIO_PCI_CONFIG_REGION_INDEX && rnd.nextBoolean()) {
                    // mostly turn bus mastering and memory decode on, so the device does DMA
                    offset = PciRegs.PCI_COMMAND;
                    data = new byte[] {(byte) (PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER), 0};
                }
                r = new RegionWrite(offset, region, data.length, data);
            }
            case 13 -> {
                cmd = Command.REGION_WRITE_MULTI;
                List<Write> w = new ArrayList<>();
                int n = rnd.nextInt(8);
                for (int i = 0; i < n; i++) {
                    int region = region();
                    w.add(new Write(offset(region), region, WIDTHS[rnd.nextInt(4)], rnd.nextLong()));
                }
                r = new RegionWriteMulti(w);
            }
            case 14 -> {
                cmd = Command.DEVICE_RESET;
                r = new DeviceReset();
            }
            default -> {
                int which = rnd.nextInt(3);
                cmd = which == 0 ? Command.DEVICE_FEATURE : which == 1 ? Command.MIG_DATA_READ : Command.MIG_DATA_WRITE;
                r = which == 0 ? new DeviceFeature(8, rnd.nextInt(), new byte[0])
                        : which == 1 ? new MigDataRead(8, rnd.nextInt(4096)) : new MigDataWrite(8 + 16, 16, new byte[16]);
            }
        }
        ByteBuffer frame = encoder.encodeRequest(id, cmd, r, posted);
        return new Case("valid", frame, fds, posted ? Expect.NONE : Expect.REPLY, false);
    }

    /** Random bytes, and pointers into the IOVA window, over part of the fuzzer's memfd. */
    private void scribble() {
        long at = 4096L * rnd.nextInt(RAM_SIZE / 4096);
        for (long off = at; off < Math.min(RAM_SIZE, at + 8192); off += 8) {
            ramView.set(ValueLayout.JAVA_LONG_UNALIGNED, off, rnd.nextBoolean() ? rnd.nextLong() : iova() + rnd.nextInt(16));
        }
    }

    /** IOVAs in a small window, so maps, unmaps and the device's pointers meet each other. */
    private long iova() {
        return rnd.nextInt(50) == 0 ? rnd.nextLong() & ~0xfffL : 4096L * rnd.nextInt((int) (IOVA_WINDOW / 4096));
    }

    private int region() {
        int p = rnd.nextInt(10);
        return p < 5 ? 0 : p < 8 ? VFIO_PCI_CONFIG_REGION_INDEX : rnd.nextInt(10);
    }

    private long offset(int region) {
        return switch (rnd.nextInt(8)) {
            case 0 -> rnd.nextLong();
            case 1 -> 0x1000 + 4L * rnd.nextInt(64);       // NVMe doorbells
            case 2 -> 0x3000 + 4L * rnd.nextInt(64);       // MSI-X tables of the devices
            default -> (long) rnd.nextInt(region == VFIO_PCI_CONFIG_REGION_INDEX ? 4096 : 0x40) & ~3L;
        };
    }

    // ------------------------------------------------------------------ mutated

    private Case mutate(Case v) {
        ByteBuffer f = copy(v.frame);
        Fd[] fds = v.fds;
        String kind;
        switch (rnd.nextInt(8)) {
            case 0 -> {
                kind = "mutated:bytes";
                int flips = 1 + rnd.nextInt(4);
                for (int i = 0; i < flips && f.limit() > Header.SIZE; i++) {
                    int at = Header.SIZE + rnd.nextInt(f.limit() - Header.SIZE);
                    f.put(at, (byte) rnd.nextInt(256));
                }
            }
            case 1 -> {
                kind = "mutated:command";
                f.putShort(2, (short) (rnd.nextBoolean() ? rnd.nextInt(20) : rnd.nextInt(65536)));
            }
            case 2 -> {
                kind = "mutated:flags";
                int[] interesting = {Header.TYPE_REPLY, Header.NO_REPLY, Header.ERROR, Header.TYPE_REPLY | Header.ERROR, 0x2, 0xf,
                        rnd.nextInt()};
                f.putInt(8, interesting[rnd.nextInt(interesting.length)]);
                f.putInt(12, rnd.nextInt());
            }
            case 3 -> {
                kind = "mutated:size";
                // mostly sizes that keep the stream framed: each close costs a reconnect and a device reset
                int declared = switch (rnd.nextInt(16)) {
                    case 0 -> rnd.nextInt(Header.SIZE);                   // below the header
                    case 1 -> maxMessageSize + 1 + rnd.nextInt(1 << 20);  // above the maximum
                    case 2 -> rnd.nextInt();
                    default -> Math.max(Header.SIZE, f.limit() + rnd.nextInt(65) - 32);
                };
                f.putInt(4, declared);
                long d = Integer.toUnsignedLong(declared);
                if (d < Header.SIZE || d > maxMessageSize) {
                    // the server must drop the stream after the header: send only the header
                    ByteBuffer h = ByteBuffer.allocate(Header.SIZE).order(ByteOrder.LITTLE_ENDIAN);
                    h.put(f.duplicate().limit(Header.SIZE)).flip();
                    return new Case(kind, h, fds, Expect.CLOSE, false);
                }
                f = resize(f, (int) d); // keep the stream framed: the body is what was cut or padded
            }
            case 4 -> {
                kind = "mutated:truncated";
                f = resize(f, Header.SIZE + rnd.nextInt(Math.max(1, f.limit() - Header.SIZE)));
            }
            case 5 -> {
                kind = "mutated:extended";
                f = resize(f, Math.min(maxMessageSize, f.limit() + 1 + rnd.nextInt(rnd.nextInt(50) == 0 ? 1 << 16 : 64)));
            }
            case 6 -> {
                kind = "mutated:fds";
                fds = switch (rnd.nextInt(5)) {
                    case 0 -> new Fd[0];
                    case 1 -> new Fd[] {ram, ram, eventfds[1]};
                    case 2 -> eventfds.clone();
                    case 3 -> java.util.Collections.nCopies(17 + rnd.nextInt(8), eventfds[3]).toArray(Fd[]::new); // > max_msg_fds
                    default -> new Fd[] {socketPair[1]};
                };
            }
            default -> {
                kind = "mutated:argsz";
                if (f.limit() >= Header.SIZE + 4) {
                    f.putInt(Header.SIZE, rnd.nextBoolean() ? rnd.nextInt() : rnd.nextInt(64));
                }
            }
        }
        return new Case(kind, f, fds, expectFor(f), false);
    }

    /** Same header (size field set to the new length), body cut or padded with random bytes. */
    private ByteBuffer resize(ByteBuffer f, int length) {
        ByteBuffer out = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
        byte[] pad = new byte[Math.max(0, length - f.limit())];
        rnd.nextBytes(pad);
        out.put(f.duplicate().limit(Math.min(f.limit(), length))).put(pad).flip();
        out.putInt(4, length);
        return out;
    }

    // ------------------------------------------------------------------ random

    private Case random(int id) {
        int len = Header.SIZE + (rnd.nextInt(20) == 0 ? rnd.nextInt(1 << 16) : rnd.nextInt(128));
        ByteBuffer f = ByteBuffer.allocate(len).order(ByteOrder.LITTLE_ENDIAN);
        byte[] body = new byte[len - Header.SIZE];
        rnd.nextBytes(body);
        int command = rnd.nextBoolean() ? rnd.nextInt(20) : rnd.nextInt(65536);
        int flags = rnd.nextInt(4) == 0 ? rnd.nextInt() : rnd.nextInt(3) == 0 ? Header.NO_REPLY : 0;
        new Header(id, command, len, flags, rnd.nextInt()).encode(f);
        f.position(Header.SIZE);
        f.put(body).flip();
        Fd[] fds = switch (rnd.nextInt(6)) {
            case 0 -> new Fd[] {ram};
            case 1 -> new Fd[] {eventfds[2], emptyMemfd};
            default -> new Fd[0];
        };
        return new Case("random", f, fds, expectFor(f), false);
    }

    /** A well-framed message is answered unless it is reply-typed or posted. */
    private static Expect expectFor(ByteBuffer f) {
        Header h = Header.decode(f.duplicate());
        return h.isReply() || h.noReply() ? Expect.NONE : Expect.REPLY;
    }

    private static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocate(b.remaining()).order(ByteOrder.LITTLE_ENDIAN);
        c.put(b.duplicate()).flip();
        return c;
    }

    @Override
    public void close() {
        arena.close();
        Fd.closeAll(ram, emptyMemfd);
        Fd.closeAll(eventfds);
        Fd.closeAll(socketPair);
    }
}
