package io.iovalab.wire;

import io.iovalab.wire.Message.*;

import static io.iovalab.wire.Message.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Message records → complete frames (header included), little-endian. No I/O.
 *
 * <p>Replies follow QEMU's rules (reference §2.2): type bit 1, the request's id and command,
 * error replies header-only with flags 0x21, never larger than the buffer QEMU allocated.
 */
public final class MessageEncoder {

    public ByteBuffer encodeReply(Header request, Reply reply) {
        return frame(request.id(), request.command(), Header.TYPE_REPLY, 0, reply);
    }

    public ByteBuffer encodeError(Header request, int errno) {
        ByteBuffer b = ByteBuffer.allocate(Header.SIZE);
        new Header(request.id(), request.command(), Header.SIZE, Header.TYPE_REPLY | Header.ERROR, errno).encode(b);
        return b;
    }

    public ByteBuffer encodeRequest(int id, Command command, Request request, boolean noReply) {
        return frame(id, command.number, Header.TYPE_COMMAND | (noReply ? Header.NO_REPLY : 0), 0, request);
    }

    private ByteBuffer frame(int id, int command, int flags, int error, Message m) {
        int bodySize = bodySize(m);
        ByteBuffer b = ByteBuffer.allocate(Header.SIZE + bodySize).order(ByteOrder.LITTLE_ENDIAN);
        new Header(id, command, Header.SIZE + bodySize, flags, error).encode(b);
        b.position(Header.SIZE);
        body(b, m);
        b.flip();
        return b;
    }

    private static int bodySize(Message m) {
        return switch (m) {
            case Version v -> 4 + v.capabilities().toJsonBytes().length;
            case DmaMap x -> 32;
            case DmaUnmap x -> 24;
            case DeviceGetInfo x -> 16;
            case DeviceInfo x -> 16;
            case DeviceGetRegionInfo x -> 32;
            case RegionInfo r -> 32 + (r.sparseAreas().isEmpty() ? 0 : 16 + 16 * r.sparseAreas().size());
            case DeviceGetRegionIoFds x -> 16;
            case DeviceGetIrqInfo x -> 16;
            case IrqInfo x -> 16;
            case DeviceSetIrqs s -> 20 + s.bools().length;
            case RegionRead x -> 16;
            case RegionReadReply r -> 16 + r.data().length;
            case RegionWrite w -> 16 + w.data().length;
            case RegionWriteReply x -> 16;
            case RegionWriteMulti w -> 8 + 24 * w.writes().size();
            case DeviceReset x -> 0;
            case DeviceFeature f -> 8 + f.data().length;
            case MigDataRead x -> 8;
            case MigDataWrite w -> 8 + w.data().length;
            case Unsupported x -> 0;
            case DmaRead x -> 16;
            case DmaReadReply r -> 16 + r.data().length;
            case DmaWrite w -> 16 + w.data().length;
            case DmaWriteReply x -> 16;
            case Empty x -> 0;
        };
    }

    private static void body(ByteBuffer b, Message m) {
        switch (m) {
            case Version v -> b.putShort((short) v.major()).putShort((short) v.minor()).put(v.capabilities().toJsonBytes());
            case DmaMap d -> b.putInt(d.argsz()).putInt(d.flags()).putLong(d.offset()).putLong(d.address()).putLong(d.size());
            case DmaUnmap d -> b.putInt(d.argsz()).putInt(d.flags()).putLong(d.address()).putLong(d.size());
            case DeviceGetInfo d -> b.putInt(d.argsz()).putInt(0).putInt(0).putInt(0);
            case DeviceInfo d -> b.putInt(d.argsz()).putInt(d.flags()).putInt(d.numRegions()).putInt(d.numIrqs());
            case DeviceGetRegionInfo d -> b.putInt(d.argsz()).putInt(0).putInt(d.index()).putInt(0).putLong(0).putLong(0);
            case RegionInfo r -> {
                b.putInt(r.argsz()).putInt(r.flags()).putInt(r.index()).putInt(r.capOffset()).putLong(r.size()).putLong(r.offset());
                if (!r.sparseAreas().isEmpty()) {
                    b.putShort((short) VFIO_REGION_INFO_CAP_SPARSE_MMAP).putShort((short) 1).putInt(0)
                            .putInt(r.sparseAreas().size()).putInt(0);
                    for (SparseArea a : r.sparseAreas()) {
                        b.putLong(a.offset()).putLong(a.size());
                    }
                }
            }
            case DeviceGetRegionIoFds d -> b.putInt(d.argsz()).putInt(d.flags()).putInt(d.index()).putInt(d.count());
            case DeviceGetIrqInfo d -> b.putInt(d.argsz()).putInt(0).putInt(d.index()).putInt(0);
            case IrqInfo d -> b.putInt(d.argsz()).putInt(d.flags()).putInt(d.index()).putInt(d.count());
            case DeviceSetIrqs s -> b.putInt(s.argsz()).putInt(s.flags()).putInt(s.index()).putInt(s.start()).putInt(s.count()).put(s.bools());
            case RegionRead r -> b.putLong(r.offset()).putInt(r.region()).putInt(r.count());
            case RegionReadReply r -> b.putLong(r.offset()).putInt(r.region()).putInt(r.count()).put(r.data());
            case RegionWrite w -> b.putLong(w.offset()).putInt(w.region()).putInt(w.count()).put(w.data());
            case RegionWriteReply r -> b.putLong(r.offset()).putInt(r.region()).putInt(r.count());
            case RegionWriteMulti w -> {
                b.putLong(w.writes().size());
                for (Write x : w.writes()) {
                    b.putLong(x.offset()).putInt(x.region()).putInt(x.count()).putLong(x.data());
                }
            }
            case DeviceFeature f -> b.putInt(f.argsz()).putInt(f.flags()).put(f.data());
            case MigDataRead r -> b.putInt(r.argsz()).putInt(r.size());
            case MigDataWrite w -> b.putInt(w.argsz()).putInt(w.size()).put(w.data());
            case DmaRead r -> b.putLong(r.address()).putLong(r.count());
            case DmaReadReply r -> b.putLong(r.address()).putLong(r.count()).put(r.data());
            case DmaWrite w -> b.putLong(w.address()).putLong(w.count()).put(w.data());
            case DmaWriteReply r -> b.putLong(r.address()).putLong(r.count());
            case DeviceReset x -> {
            }
            case Unsupported x -> {
            }
            case Empty x -> {
            }
        }
    }
}
