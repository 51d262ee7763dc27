package io.iovalab.wire;

import io.iovalab.wire.Message.*;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HexFormat;
import java.util.List;

import static io.iovalab.wire.Message.*;
import static org.junit.jupiter.api.Assertions.*;

/** Byte-exact layouts from the reference's tables and captured traces. */
class LayoutTest {
    final MessageEncoder enc = new MessageEncoder();
    final MessageDecoder dec = new MessageDecoder(1 << 20);

    static byte[] bytes(ByteBuffer b) {
        byte[] a = new byte[b.remaining()];
        b.duplicate().get(a);
        return a;
    }

    @Test
    void dma_write_uses_the_qemu_11_layout_with_a_64_bit_count_and_data_at_32() {
        byte[] data = "hello-from-vfio-user-server@0x200000".getBytes();
        byte[] padded = new byte[0x40];
        System.arraycopy(data, 0, padded, 0, data.length);
        ByteBuffer f = enc.encodeRequest(1, Command.DMA_WRITE, new DmaWrite(0x200000, 0x40, padded), false);
        byte[] b = bytes(f);
        assertEquals(96, b.length);
        assertEquals("01000c0060000000", HexFormat.of().formatHex(b, 0, 8));          // id 1, cmd 12, size 96
        assertEquals("0000200000000000" + "4000000000000000", HexFormat.of().formatHex(b, 16, 32));
        assertEquals('h', b[32]);
    }

    @Test
    void region_info_with_sparse_mmap_matches_the_captured_round_trip() throws Exception {
        Header req = new Header(7, Command.DEVICE_GET_REGION_INFO.number, 48, 0, 0);
        RegionInfo info = new RegionInfo(0x50, 0xf, 1, 0x20, 0x4000, 0,
                List.of(new SparseArea(0, 0x1000), new SparseArea(0x2000, 0x1000)));
        byte[] b = bytes(enc.encodeReply(req, info));
        assertEquals(16 + 0x50, b.length);
        ByteBuffer le = ByteBuffer.wrap(b).order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1, le.getInt(8) & 0xf, "reply type");
        assertEquals(0x50, le.getInt(16));
        assertEquals("0100010000000000" + "0200000000000000", HexFormat.of().formatHex(b, 48, 64));
        assertEquals(0x2000, le.getLong(16 + 48 + 16));
        RegionInfo back = (RegionInfo) dec.decodeReply(Header.decode(ByteBuffer.wrap(b)), ByteBuffer.wrap(b, 16, b.length - 16));
        assertEquals(info, back);
    }

    @Test
    void error_replies_are_header_only_with_flags_0x21() {
        byte[] b = bytes(enc.encodeError(new Header(9, 5, 48, 0, 0), 22));
        assertEquals(16, b.length);
        assertEquals("090005001000000021000000" + "16000000", HexFormat.of().formatHex(b));
    }

    @Test
    void every_request_round_trips() throws Exception {
        List<Request> all = List.of(new Version(0, 0, Capabilities.defaults()), new DmaMap(32, 3, 0x1000, 0x200000, 0x4000),
                new DmaUnmap(24, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0), new DeviceGetInfo(16), new DeviceGetRegionInfo(32, 7),
                new DeviceGetIrqInfo(16, 2), new RegionRead(0x10, 7, 4), new RegionWrite(4, 7, 2, new byte[] {6, 0}),
                new RegionWriteMulti(List.of(new Write(0x1000, 0, 4, 5), new Write(0x1008, 0, 8, -1))), new DeviceReset(),
                new DeviceSetIrqs(20, VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK, 2, 1, 2, new byte[] {1, 0}));
        for (Request r : all) {
            Command c = switch (r) {
                case Version v -> Command.VERSION;
                case DmaMap m -> Command.DMA_MAP;
                case DmaUnmap u -> Command.DMA_UNMAP;
                case DeviceGetInfo g -> Command.DEVICE_GET_INFO;
                case DeviceGetRegionInfo g -> Command.DEVICE_GET_REGION_INFO;
                case DeviceGetIrqInfo g -> Command.DEVICE_GET_IRQ_INFO;
                case RegionRead g -> Command.REGION_READ;
                case RegionWrite g -> Command.REGION_WRITE;
                case RegionWriteMulti g -> Command.REGION_WRITE_MULTI;
                case DeviceReset g -> Command.DEVICE_RESET;
                case DeviceSetIrqs g -> Command.DEVICE_SET_IRQS;
                default -> throw new IllegalStateException();
            };
            ByteBuffer f = enc.encodeRequest(3, c, r, false);
            Header h = Header.decode(f);
            assertEquals(f.remaining(), h.size());
            Request back = dec.decodeRequest(h, f.duplicate().position(16), 0);
            assertEquals(enc.encodeRequest(3, c, back, false), f, "round trip of " + r);
        }
    }
}
