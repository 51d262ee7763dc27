package io.iovalab.wire;

import io.iovalab.wire.Message.*;

import static io.iovalab.wire.Message.*;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

import static io.iovalab.wire.Errnos.E2BIG;
import static io.iovalab.wire.Errnos.EINVAL;
import static io.iovalab.wire.Errnos.ENOSYS;

/**
 * Frame bodies → message records, with every length and count checked against the spec's
 * layout. No I/O. A body is the message after its 16-byte header (payload offset 0).
 */
public final class MessageDecoder {
    private final long maxDataXferSize;

    public MessageDecoder(long maxDataXferSize) {
        this.maxDataXferSize = maxDataXferSize;
    }

    /**
     * A request from the client.
     *
     * @param fdCount how many descriptors arrived with the message
     */
    public Request decodeRequest(Header h, ByteBuffer body, int fdCount) throws WireException {
        ByteBuffer b = body.slice().order(ByteOrder.LITTLE_ENDIAN);
        Command c = Command.of(h.command());
        if (c == null) {
            throw new WireException(ENOSYS, "unknown command " + h.command());
        }
        int maxFds = switch (c) {
            case DMA_MAP -> 1;
            case DEVICE_SET_IRQS -> Integer.MAX_VALUE;
            default -> 0;
        };
        if (fdCount > maxFds) {
            throw new WireException(EINVAL, c + " carries " + fdCount + " file descriptors; at most " + maxFds + " allowed");
        }
        return switch (c) {
            case VERSION -> {
                need(b, 4, c);
                byte[] raw = bytes(b, 0, b.remaining());
                yield new Version(u16(b, 0), u16(b, 2), Capabilities.parse(raw, 4, raw.length));
            }
            case DMA_MAP -> {
                need(b, 32, c);
                int argsz = argsz(b, 32, c);
                yield new DmaMap(argsz, b.getInt(4), b.getLong(8), b.getLong(16), b.getLong(24));
            }
            case DMA_UNMAP -> {
                need(b, 24, c);
                int argsz = argsz(b, 24, c);
                int flags = b.getInt(4);
                if ((flags & ~(VFIO_DMA_UNMAP_FLAG_ALL | VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP)) != 0) {
                    throw new WireException(EINVAL, "DMA_UNMAP: unknown flags 0x" + Integer.toHexString(flags));
                }
                yield new DmaUnmap(argsz, flags, b.getLong(8), b.getLong(16));
            }
            case DEVICE_GET_INFO -> {
                need(b, 4, c);
                yield new DeviceGetInfo(argsz(b, 16, c));
            }
            case DEVICE_GET_REGION_INFO -> {
                need(b, 12, c);
                yield new DeviceGetRegionInfo(argsz(b, 32, c), b.getInt(8));
            }
            case DEVICE_GET_REGION_IO_FDS -> {
                need(b, 16, c);
                yield new DeviceGetRegionIoFds(argsz(b, 16, c), b.getInt(4), b.getInt(8), b.getInt(12));
            }
            case DEVICE_GET_IRQ_INFO -> {
                need(b, 12, c);
                yield new DeviceGetIrqInfo(argsz(b, 16, c), b.getInt(8));
            }
            case DEVICE_SET_IRQS -> setIrqs(b, fdCount);
            case REGION_READ -> {
                need(b, 16, c);
                if (b.remaining() != 16) {
                    throw new WireException(EINVAL, "REGION_READ: request carries " + (b.remaining() - 16) + " data bytes");
                }
                int count = b.getInt(12);
                checkCount(count, c);
                yield new RegionRead(b.getLong(0), b.getInt(8), count);
            }
            case REGION_WRITE -> {
                need(b, 16, c);
                int count = b.getInt(12);
                checkCount(count, c);
                if (b.remaining() != 16 + (long) count) {
                    throw new WireException(EINVAL, "REGION_WRITE: count " + count + " but " + (b.remaining() - 16) + " data bytes");
                }
                yield new RegionWrite(b.getLong(0), b.getInt(8), count, bytes(b, 16, count));
            }
            case DEVICE_RESET -> new DeviceReset();
            case REGION_WRITE_MULTI -> writeMulti(b);
            case DEVICE_FEATURE -> {
                need(b, 8, c);
                int argsz = argsz(b, 8, c);
                yield new DeviceFeature(argsz, b.getInt(4), bytes(b, 8, b.remaining() - 8));
            }
            case MIG_DATA_READ -> {
                need(b, 8, c);
                yield new MigDataRead(argsz(b, 8, c), b.getInt(4));
            }
            case MIG_DATA_WRITE -> {
                need(b, 8, c);
                yield new MigDataWrite(argsz(b, 8, c), b.getInt(4), bytes(b, 8, b.remaining() - 8));
            }
            case DIRTY_PAGES, DMA_READ, DMA_WRITE -> new Unsupported(c);
        };
    }

    private DeviceSetIrqs setIrqs(ByteBuffer b, int fdCount) throws WireException {
        need(b, 20, Command.DEVICE_SET_IRQS);
        int argsz = argsz(b, 20, Command.DEVICE_SET_IRQS);
        int flags = b.getInt(4);
        int index = b.getInt(8);
        int start = b.getInt(12);
        int count = b.getInt(16);
        int data = flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
        int action = flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
        if ((flags & ~(VFIO_IRQ_SET_DATA_TYPE_MASK | VFIO_IRQ_SET_ACTION_TYPE_MASK)) != 0
                || Integer.bitCount(data) != 1 || Integer.bitCount(action) != 1) {
            throw new WireException(EINVAL, "SET_IRQS: flags 0x" + Integer.toHexString(flags)
                    + " must name exactly one data type and one action");
        }
        if (count < 0 || start < 0 || (long) start + count > 0x7fffffffL) {
            throw new WireException(EINVAL, "SET_IRQS: start " + start + " count " + count + " out of range");
        }
        byte[] bools = new byte[0];
        switch (data) {
            case VFIO_IRQ_SET_DATA_NONE -> {
                if (fdCount != 0 || b.remaining() != 20) {
                    throw new WireException(EINVAL, "SET_IRQS: DATA_NONE with data or descriptors");
                }
            }
            case VFIO_IRQ_SET_DATA_BOOL -> {
                if (fdCount != 0 || b.remaining() != 20 + (long) count) {
                    throw new WireException(EINVAL, "SET_IRQS: DATA_BOOL needs exactly " + count + " data bytes");
                }
                bools = bytes(b, 20, count);
            }
            default -> {
                // N descriptors set N vectors; none de-assigns N vectors
                if (fdCount != 0 && fdCount != count) {
                    throw new WireException(EINVAL, "SET_IRQS: count " + count + " but " + fdCount + " eventfds");
                }
                if (b.remaining() != 20) {
                    throw new WireException(EINVAL, "SET_IRQS: DATA_EVENTFD with inline data");
                }
                if (action != VFIO_IRQ_SET_ACTION_TRIGGER && action != VFIO_IRQ_SET_ACTION_UNMASK) {
                    throw new WireException(EINVAL, "SET_IRQS: eventfds only go with TRIGGER or UNMASK");
                }
            }
        }
        return new DeviceSetIrqs(argsz, flags, index, start, count, bools);
    }

    private static RegionWriteMulti writeMulti(ByteBuffer b) throws WireException {
        need(b, 8, Command.REGION_WRITE_MULTI);
        long n = b.getLong(0);
        if (n < 0 || n > VFIO_USER_MULTI_MAX) {
            throw new WireException(EINVAL, "REGION_WRITE_MULTI: wr_cnt " + n + " above " + VFIO_USER_MULTI_MAX);
        }
        if (b.remaining() != 8 + 24 * n) {
            throw new WireException(EINVAL, "REGION_WRITE_MULTI: " + n + " writes need " + (8 + 24 * n)
                    + " bytes, got " + b.remaining());
        }
        List<Write> writes = new ArrayList<>((int) n);
        for (int i = 0; i < n; i++) {
            int p = 8 + 24 * i;
            int count = b.getInt(p + 12);
            if (count < 1 || count > VFIO_USER_MULTI_DATA) {
                throw new WireException(EINVAL, "REGION_WRITE_MULTI: write " + i + " count " + count + " not 1..8");
            }
            writes.add(new Write(b.getLong(p), b.getInt(p + 8), count, b.getLong(p + 16)));
        }
        return new RegionWriteMulti(writes);
    }

    /**
     * A reply to a request we sent (client side of the codec, and the server's DMA_READ/WRITE).
     * Error replies are not decoded here: callers check {@link Header#isError()} first.
     */
    public Reply decodeReply(Header h, ByteBuffer body) throws WireException {
        ByteBuffer b = body.slice().order(ByteOrder.LITTLE_ENDIAN);
        Command c = Command.of(h.command());
        if (c == null) {
            throw new WireException(ENOSYS, "reply to unknown command " + h.command());
        }
        return switch (c) {
            case VERSION -> {
                need(b, 5, c);
                byte[] raw = bytes(b, 0, b.remaining());
                yield new Version(u16(b, 0), u16(b, 2), Capabilities.parse(raw, 4, raw.length));
            }
            case DEVICE_GET_INFO -> {
                need(b, 16, c);
                yield new DeviceInfo(b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12));
            }
            case DEVICE_GET_REGION_INFO -> regionInfo(b);
            case DEVICE_GET_IRQ_INFO -> {
                need(b, 16, c);
                yield new IrqInfo(b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12));
            }
            case DEVICE_GET_REGION_IO_FDS -> {
                need(b, 16, c);
                yield new DeviceGetRegionIoFds(b.getInt(0), b.getInt(4), b.getInt(8), b.getInt(12));
            }
            case REGION_READ -> {
                need(b, 16, c);
                int count = b.getInt(12);
                if (count < 0 || b.remaining() != 16 + (long) count) {
                    throw new WireException(EINVAL, "REGION_READ reply: count " + count + " but " + (b.remaining() - 16) + " bytes");
                }
                yield new RegionReadReply(b.getLong(0), b.getInt(8), count, bytes(b, 16, count));
            }
            case REGION_WRITE -> b.remaining() >= 16
                    ? new RegionWriteReply(b.getLong(0), b.getInt(8), b.getInt(12)) : new Empty();
            case DMA_UNMAP -> b.remaining() >= 24
                    ? new DmaUnmap(b.getInt(0), b.getInt(4), b.getLong(8), b.getLong(16)) : new Empty();
            case DMA_READ -> {
                need(b, 16, c);
                long count = b.getLong(8);
                if (count < 0 || b.remaining() != 16 + count) {
                    throw new WireException(EINVAL, "DMA_READ reply: count " + count + " but " + (b.remaining() - 16) + " bytes");
                }
                yield new DmaReadReply(b.getLong(0), count, bytes(b, 16, (int) count));
            }
            case DMA_WRITE -> b.remaining() >= 16 ? new DmaWriteReply(b.getLong(0), b.getLong(8)) : new Empty();
            case DEVICE_FEATURE -> {
                need(b, 8, c);
                yield new DeviceFeature(b.getInt(0), b.getInt(4), bytes(b, 8, b.remaining() - 8));
            }
            default -> new Empty();
        };
    }

    /** A server → client request as the client sees it (used by test clients). */
    public Request decodeServerRequest(Header h, ByteBuffer body) throws WireException {
        ByteBuffer b = body.slice().order(ByteOrder.LITTLE_ENDIAN);
        Command c = Command.of(h.command());
        if (c == Command.DMA_READ) {
            need(b, 16, c);
            if (b.remaining() != 16) {
                throw new WireException(EINVAL, "DMA_READ request with data");
            }
            long count = b.getLong(8);
            checkCount(count, c);
            return new DmaRead(b.getLong(0), count);
        }
        if (c == Command.DMA_WRITE) {
            need(b, 16, c);
            long count = b.getLong(8);
            checkCount(count, c);
            if (b.remaining() != 16 + count) {
                throw new WireException(EINVAL, "DMA_WRITE: count " + count + " but " + (b.remaining() - 16) + " data bytes");
            }
            return new DmaWrite(b.getLong(0), count, bytes(b, 16, (int) count));
        }
        throw new WireException(EINVAL, "the server sends only DMA_READ/DMA_WRITE requests, not " + Command.describe(h.command()));
    }

    private static RegionInfo regionInfo(ByteBuffer b) throws WireException {
        need(b, 32, Command.DEVICE_GET_REGION_INFO);
        int argsz = b.getInt(0);
        int flags = b.getInt(4);
        int capOffset = b.getInt(12);
        List<SparseArea> areas = new ArrayList<>();
        if ((flags & VFIO_REGION_INFO_FLAG_CAPS) != 0) {
            if (capOffset < 32 || capOffset + 16L > b.remaining()) {
                throw new WireException(EINVAL, "REGION_INFO: cap_offset " + capOffset + " outside the reply");
            }
            int id = u16(b, capOffset);
            if (id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
                int n = b.getInt(capOffset + 8);
                if (n < 0 || capOffset + 16L + 16L * n > b.remaining()) {
                    throw new WireException(EINVAL, "REGION_INFO: " + n + " sparse areas do not fit the reply");
                }
                for (int i = 0; i < n; i++) {
                    int p = capOffset + 16 + 16 * i;
                    areas.add(new SparseArea(b.getLong(p), b.getLong(p + 8)));
                }
            }
        }
        return new RegionInfo(argsz, flags, b.getInt(8), capOffset, b.getLong(16), b.getLong(24), areas);
    }

    private void checkCount(long count, Command c) throws WireException {
        if (count < 0) {
            throw new WireException(EINVAL, c + ": negative count " + count);
        }
        if (count > maxDataXferSize) {
            throw new WireException(E2BIG, c + ": count " + count + " above max_data_xfer_size " + maxDataXferSize);
        }
    }

    private static void need(ByteBuffer b, int bytes, Command c) throws WireException {
        if (b.remaining() < bytes) {
            throw new WireException(EINVAL, c + ": body of " + b.remaining() + " bytes, needs at least " + bytes);
        }
    }

    private static int argsz(ByteBuffer b, int min, Command c) throws WireException {
        int argsz = b.getInt(0);
        if (argsz < min) {
            throw new WireException(EINVAL, c + ": argsz " + argsz + " below " + min);
        }
        return argsz;
    }

    private static int u16(ByteBuffer b, int at) {
        return Short.toUnsignedInt(b.getShort(at));
    }

    private static byte[] bytes(ByteBuffer b, int at, int n) {
        byte[] out = new byte[n];
        b.get(at, out);
        return out;
    }
}
