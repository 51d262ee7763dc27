package io.iovalab.server;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.GuestReadTap;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.iommu.RemoteDma;
import io.iovalab.iommu.TraceEvent;
import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.recording.DeviceSideTrace;
import io.iovalab.recording.Entry;
import io.iovalab.recording.Recording;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DeviceEvent;
import io.iovalab.wire.Header;
import io.iovalab.wire.Message;
import io.iovalab.wire.MessageDecoder;
import io.iovalab.wire.WireException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Drives a fresh device from a recording, without QEMU: the client's requests go through the same
 * decoder and {@link RequestHandler} as a live session, guest RAM is a memfd per recorded file,
 * and every guest-memory read the device makes is answered with the bytes recorded for it.
 *
 * <p>How a read finds its bytes (RECORDING.md, "Replay"): reads tied to a command, and queue-entry
 * fetches, take the next recorded read of the same queue, address and length — a queue's commands
 * run in SQ order, so that sequence does not depend on timing. Polls (scalar reads outside any
 * command: shadow doorbells, EventIdx) see the last value recorded before the next client request
 * to be replayed, since how often a worker polled is timing. A request is dispatched only once the
 * replayed device has done as much of the compared work (commands, completions, DMA) as the
 * recorded one had when that request arrived, which keeps e.g. a DMA_UNMAP behind the commands the
 * guest waited for before unmapping.
 */
public final class SessionReplayer {
    private static final Logger log = LoggerFactory.getLogger(SessionReplayer.class);

    /**
     * @param difference null when the traces are the same under the comparison, else the first difference
     * @param missedReads device reads for which the recording held no bytes (a sign of divergence)
     * @param stalls      requests dispatched after waiting in vain for the recorded number of completions
     */
    public record Result(List<Entry.TraceEntry> recorded, List<Entry.TraceEntry> replayed, String difference, int requests,
                         long servedReads, long missedReads, int stalls) {
        public boolean identical() {
            return difference == null;
        }
    }

    private record Key(int queue, long iova, long length) {
    }

    private final Recording recording;
    private final io.iovalab.wire.MessageEncoder encoder = new io.iovalab.wire.MessageEncoder();
    private final long gateMillis;
    private final Map<Key, ConcurrentLinkedDeque<byte[]>> queued = new ConcurrentHashMap<>();
    private final Map<Key, TreeMap<Integer, byte[]>> polled = new HashMap<>();
    private final List<Entry.TraceEntry> recorded = new ArrayList<>();
    private final List<Entry.TraceEntry> replayed = new ArrayList<>();
    private final AtomicLong served = new AtomicLong();
    private final AtomicLong missed = new AtomicLong();
    private final Object progress = new Object();
    /** compared events the replayed device produced on its own threads */
    private long work;
    /** entry index of the next request to dispatch: polls see values recorded before it */
    private volatile int boundary;

    private SessionReplayer(Recording recording, long gateMillis) {
        this.recording = recording;
        this.gateMillis = gateMillis;
    }

    /**
     * Replays {@code recording} on a new instance of {@code device} (null: the recorded one).
     * {@code gateMillis} bounds each wait for the device to catch up with the recorded progress.
     */
    public static Result replay(Recording recording, DeviceConfig device, DeviceRegistry registry, long gateMillis)
            throws IOException, DeviceConfigException {
        return new SessionReplayer(recording, gateMillis).run(device != null ? device : recordedDevice(recording), registry);
    }

    /** The recorded device; a file backend becomes the null backend so a replay never writes the user's disk image. */
    static DeviceConfig recordedDevice(Recording recording) throws DeviceConfigException {
        DeviceConfig c = DeviceConfig.parse(recording.header().device());
        if ("file".equals(c.values().get("backend"))) {
            Map<String, String> v = new java.util.LinkedHashMap<>(c.values());
            v.put("backend", "null");
            v.remove("file");
            c = new DeviceConfig(c.type(), v);
        }
        return c;
    }

    private static boolean isPoll(int commandId, long length) {
        return commandId == DmaCommand.NO_COMMAND && length <= 8;
    }

    private Result run(DeviceConfig config, DeviceRegistry registry) throws IOException, DeviceConfigException {
        List<Integer> requests = new ArrayList<>();
        List<Long> workBefore = new ArrayList<>();
        Map<Integer, byte[]> readReplies = recordedReadReplies(recording.entries());
        List<Entry> entries = recording.entries();
        long recordedWork = 0;
        for (int i = 0; i < entries.size(); i++) {
            switch (entries.get(i)) {
                case Entry.ClientFrame f when !Header.decode(ByteBuffer.wrap(f.frame())).isReply() -> {
                    requests.add(i);
                    workBefore.add(recordedWork);
                }
                case Entry.GuestRead r when isPoll(r.commandId(), r.data().length) ->
                        polled.computeIfAbsent(new Key(-1, r.iova(), r.data().length), k -> new TreeMap<>()).put(i, r.data());
                case Entry.GuestRead r -> queued.computeIfAbsent(new Key(r.queue(), r.iova(), r.data().length),
                        k -> new ConcurrentLinkedDeque<>()).add(r.data());
                case Entry.TraceEntry t -> {
                    recorded.add(t);
                    recordedWork += DeviceSideTrace.deviceWork(t) ? 1 : 0;
                }
                default -> {
                }
            }
        }

        var h = recording.header();
        ServerOptions options = new ServerOptions(Path.of("replay"), config, h.name(), h.maxMsgFds(), h.maxDataXferSize(),
                h.maxDmaMaps());
        RemoteDma noClient = new RemoteDma() {
            @Override
            public void read(long iova, MemorySegment dst, long dstOffset, long length) throws IOException {
                throw new IOException("replay: every map is backed by memory, there is no client to ask");
            }

            @Override
            public void write(long iova, MemorySegment src, long srcOffset, long length) throws IOException {
                throw new IOException("replay: every map is backed by memory, there is no client to ask");
            }
        };
        IovaSpace iova = new IovaSpace(h.name(), noClient, h.maxDmaMaps());
        ServerDeviceContext context = new ServerDeviceContext(h.name(), iova, new SessionStats());
        Device device;
        try {
            device = registry.resolve(config).create(config, context);
        } catch (DeviceConfigException | RuntimeException e) {
            context.close();
            throw e;
        }
        DmaFileCache files = new DmaFileCache();
        IrqTable irqs = new IrqTable(device.function().interrupts());
        RequestHandler handler = new RequestHandler(device, iova, files, irqs, options);
        device.function().setListener(DeviceWiring.pciListener(iova, () -> handler));
        java.util.function.Consumer<TraceEvent> iommuListener = e -> addReplayed(DeviceSideTrace.of(e));
        java.util.function.Consumer<DeviceEvent> deviceListener = e -> addReplayed(DeviceSideTrace.of(e));
        iova.trace().subscribe(iommuListener);
        context.trace().subscribe(deviceListener);
        iova.setReadTap(new GuestReadTap() {
            @Override
            public void beforeRead(int queue, int commandId, long address, MemorySegment guest) {
                serveRead(queue, commandId, address, guest);
            }
        });
        Map<Integer, Fd> ram = new HashMap<>();
        List<Fd> anonymous = new ArrayList<>();
        MessageDecoder decoder = new MessageDecoder(options.maxDataXferSize());
        int stalls = 0;
        try {
            for (int n = 0; n < requests.size(); n++) {
                int index = requests.get(n);
                // from here until request n goes out, polls see what the recorded worker saw before it arrived
                boundary = index;
                if (!await(workBefore.get(n))) {
                    stalls++;
                }
                if (!dispatch((Entry.ClientFrame) entries.get(index), readReplies.get(index), decoder, handler, ram, anonymous)) {
                    stalls++;
                }
            }
            boundary = Integer.MAX_VALUE;
            if (!await(recordedWork)) {
                stalls++;
            }
        } finally {
            iova.setReadTap(null);
            iova.trace().unsubscribe(iommuListener);
            context.trace().unsubscribe(deviceListener);
            irqs.closeAll();
            iova.setBusMasterEnabled(false);
            try {
                device.reset(Device.ResetReason.CLIENT_GONE);
            } catch (RuntimeException e) {
                log.error("replay: reset at the end failed", e);
            }
            iova.unmapAll();
            files.clear();
            device.close();
            iova.close();
            context.close();
            ram.values().forEach(Fd::close);
            anonymous.forEach(Fd::close);
        }
        List<Entry.TraceEntry> mine;
        synchronized (replayed) {
            mine = List.copyOf(replayed);
        }
        return new Result(List.copyOf(recorded), mine, DeviceSideTrace.firstDifference(recorded, mine), requests.size(),
                served.get(), missed.get(), stalls);
    }

    private void addReplayed(Entry.TraceEntry t) {
        synchronized (replayed) {
            replayed.add(t);
        }
        if (DeviceSideTrace.deviceWork(t)) {
            synchronized (progress) {
                work++;
                progress.notifyAll();
            }
        }
    }

    /** Waits until the replayed device has done that much of the compared work (events off the message thread). */
    private boolean await(long want) {
        long deadline = System.nanoTime() + gateMillis * 1_000_000;
        synchronized (progress) {
            while (work < want) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                if (left <= 0) {
                    log.warn("replay: the device did {} compared events of work, the recording had {} by now; going on", work,
                            want);
                    return false;
                }
                try {
                    progress.wait(left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
            }
        }
        return true;
    }

    private void serveRead(int queue, int commandId, long address, MemorySegment guest) {
        long length = guest.byteSize();
        byte[] data;
        if (isPoll(commandId, length)) {
            Map.Entry<Integer, byte[]> e;
            TreeMap<Integer, byte[]> values = polled.get(new Key(-1, address, length));
            synchronized (polled) {
                e = values == null ? null : values.lowerEntry(boundary);
            }
            data = e == null ? null : e.getValue();
        } else {
            ConcurrentLinkedDeque<byte[]> q = queued.get(new Key(queue, address, length));
            data = q == null ? null : q.poll();
        }
        if (data == null) {
            missed.incrementAndGet();
            return;
        }
        served.incrementAndGet();
        MemorySegment.copy(data, 0, guest, ValueLayout.JAVA_BYTE, 0, data.length);
    }

    /**
     * Recorded replies to REGION_READ, by the index of their request. Drivers poll registers
     * (NVMe CSTS.RDY after CC.EN) and go on only once they see the change; the replay repeats such a
     * read until the device answers as it did then, so it never runs ahead of the device's state.
     */
    private static Map<Integer, byte[]> recordedReadReplies(List<Entry> entries) {
        Map<Integer, byte[]> out = new HashMap<>();
        Map<Integer, Integer> waiting = new HashMap<>(); // request id → entry index
        for (int i = 0; i < entries.size(); i++) {
            switch (entries.get(i)) {
                case Entry.ClientFrame f -> {
                    Header h = Header.decode(ByteBuffer.wrap(f.frame()));
                    if (!h.isReply() && !h.noReply() && h.command() == io.iovalab.wire.Command.REGION_READ.number) {
                        waiting.put(h.id(), i);
                    }
                }
                case Entry.ServerFrame f -> {
                    Header h = Header.decode(ByteBuffer.wrap(f.frame()));
                    Integer req = h.isReply() && h.command() == io.iovalab.wire.Command.REGION_READ.number ? waiting.remove(h.id()) : null;
                    if (req != null) {
                        out.put(req, f.frame());
                    }
                }
                default -> {
                }
            }
        }
        return out;
    }

    /** False if a register read never gave the recorded answer within the gate timeout. */
    private boolean dispatch(Entry.ClientFrame f, byte[] recordedReply, MessageDecoder decoder, RequestHandler handler,
                             Map<Integer, Fd> ram, List<Fd> anonymous) throws IOException {
        byte[] frame = f.frame();
        Header h = Header.decode(ByteBuffer.wrap(frame));
        ByteBuffer body = ByteBuffer.wrap(Arrays.copyOfRange(frame, Header.SIZE, frame.length)).order(ByteOrder.LITTLE_ENDIAN);
        Fd[] fds = new Fd[f.fds().size()];
        try {
            for (int i = 0; i < fds.length; i++) {
                Entry.FdInfo info = f.fds().get(i);
                fds[i] = info.type() == Entry.FdInfo.FILE ? ramFile(ram, info).dup() : EventFd.create(true);
            }
            Message.Request request;
            try {
                request = decoder.decodeRequest(h, body, fds.length);
                if (request instanceof Message.DmaMap m && fds.length == 0) {
                    // served by DMA_READ/WRITE when recorded; here memory answers, so the read tap sees it
                    Fd anon = Memfd.create("replay-dma", m.offset() + m.size());
                    anonymous.add(anon);
                    fds = new Fd[]{anon.dup()};
                }
            } catch (WireException e) {
                return true; // the live server rejected it too
            }
            try {
                Outcome out = handler.handle(request, fds);
                if (recordedReply != null && request instanceof Message.RegionRead) {
                    long deadline = System.nanoTime() + gateMillis * 1_000_000;
                    while (!Arrays.equals(recordedReply, bytes(encoder.encodeReply(h, out.reply())))) {
                        if (System.nanoTime() - deadline > 0) {
                            log.warn("replay: {} never answered as recorded; going on", h);
                            return false;
                        }
                        Thread.sleep(1);
                        out = handler.handle(request, fds);
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException("replay interrupted");
            } catch (HandlerException e) {
                log.debug("replay: {} failed as a request: {}", h, e.getMessage());
            } catch (RuntimeException e) {
                log.error("replay: {} failed unexpectedly", h, e);
            }
        } finally {
            Fd.closeAll(fds);
        }
        return true;
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

    private static Fd ramFile(Map<Integer, Fd> ram, Entry.FdInfo info) throws IOException {
        Fd fd = ram.get(info.fileId());
        if (fd == null) {
            fd = Memfd.create("replay-ram-" + info.fileId(), info.fileSize());
            ram.put(info.fileId(), fd);
        } else if (io.iovalab.os.FileStat.of(fd).size() < info.fileSize()) {
            Memfd.truncate(fd, info.fileSize());
        }
        return fd;
    }
}
