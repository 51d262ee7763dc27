package io.iovalab.server;

import io.iovalab.iommu.GuestReadTap;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.iommu.TraceEvent;
import io.iovalab.os.Fd;
import io.iovalab.os.FileStat;
import io.iovalab.recording.DeviceSideTrace;
import io.iovalab.recording.Entry;
import io.iovalab.recording.RecordingHeader;
import io.iovalab.recording.RecordingWriter;
import io.iovalab.spi.DeviceEvent;
import io.iovalab.spi.DeviceTrace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Records one session: its frames and descriptors (as a {@link SessionTap}), the guest memory the
 * device read (as a {@link GuestReadTap}) and the device-side trace, into one file.
 *
 * <p>A write error stops the recording (logged once) but never the session: the guest must not
 * suffer for a full disk.
 */
final class SessionRecorder implements SessionTap, GuestReadTap {
    private static final Logger log = LoggerFactory.getLogger(SessionRecorder.class);

    private final Path file;
    private final RecordingWriter writer;
    private final IovaSpace iova;
    private final DeviceTrace deviceTrace;
    private final Map<Long, Integer> fileIds = new HashMap<>();
    private final Consumer<TraceEvent> iommuListener = e -> write(DeviceSideTrace.of(e));
    private final Consumer<DeviceEvent> deviceListener = e -> write(DeviceSideTrace.of(e));
    private volatile boolean failed;

    private SessionRecorder(Path file, RecordingWriter writer, IovaSpace iova, DeviceTrace deviceTrace) {
        this.file = file;
        this.writer = writer;
        this.iova = iova;
        this.deviceTrace = deviceTrace;
    }

    static SessionRecorder start(Path file, ServerOptions o, IovaSpace iova, DeviceTrace deviceTrace) throws IOException {
        RecordingHeader header = new RecordingHeader(o.device().toString(), o.name(), o.maxMsgFds(), o.maxDataXferSize(),
                o.maxDmaMaps());
        SessionRecorder r = new SessionRecorder(file, RecordingWriter.create(file, header), iova, deviceTrace);
        iova.trace().subscribe(r.iommuListener);
        deviceTrace.subscribe(r.deviceListener);
        iova.setReadTap(r);
        return r;
    }

    @Override
    public void received(ByteBuffer header, ByteBuffer body, Fd[] fds) {
        byte[] frame = new byte[header.remaining() + body.remaining()];
        header.duplicate().get(frame, 0, header.remaining());
        body.duplicate().get(frame, header.remaining(), body.remaining());
        List<Entry.FdInfo> infos = new ArrayList<>(fds.length);
        for (Fd fd : fds) {
            infos.add(describe(fd));
        }
        write(new Entry.ClientFrame(frame, infos));
    }

    private Entry.FdInfo describe(Fd fd) {
        try {
            FileStat st = FileStat.of(fd);
            if ((st.mode() & FileStat.S_IFMT) == FileStat.S_IFREG) {
                // guest RAM: one id per file, whatever the number of fds QEMU sends for it
                long key = st.dev() * 31 + st.ino();
                int id = fileIds.computeIfAbsent(key, k -> fileIds.size());
                return new Entry.FdInfo(Entry.FdInfo.FILE, id, st.size());
            }
        } catch (IOException e) {
            log.debug("fstat of a client fd failed: {}", e.getMessage());
        }
        return new Entry.FdInfo(Entry.FdInfo.OTHER, -1, 0);
    }

    @Override
    public void sent(ByteBuffer frame, Fd fdOrNull) {
        byte[] b = new byte[frame.remaining()];
        frame.duplicate().get(b);
        write(new Entry.ServerFrame(b, fdOrNull != null));
    }

    @Override
    public void read(int queue, int commandId, long address, MemorySegment guest) {
        write(new Entry.GuestRead(queue, commandId, address, guest.toArray(ValueLayout.JAVA_BYTE)));
    }

    @Override
    public void closed() {
        iova.setReadTap(null);
        iova.trace().unsubscribe(iommuListener);
        deviceTrace.unsubscribe(deviceListener);
        write(new Entry.End("client disconnected"));
        try {
            writer.close();
            log.info("session recorded to {}", file);
        } catch (IOException e) {
            log.error("recording {}: {}", file, e.getMessage());
        }
    }

    private void write(Entry e) {
        if (failed) {
            return;
        }
        try {
            writer.write(e);
        } catch (IOException ex) {
            failed = true;
            log.error("recording to {} stopped: {}", file, ex.getMessage());
        }
    }
}
