package io.iovalab.server;

import io.iovalab.example.DmaCopyRegs;
import io.iovalab.iommu.Fault;
import io.iovalab.os.EventFd;
import io.iovalab.os.Fd;
import io.iovalab.os.Poll;
import io.iovalab.pci.PciRegs;
import io.iovalab.wire.Command;
import io.iovalab.wire.Message.*;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.iovalab.wire.Message.*;
import static org.junit.jupiter.api.Assertions.*;

/** The example device driven through every message a client sends, with real fds. */
class ServerEndToEndTest {
    static final long RAM_IOVA = 0x100000;
    static final long REMOTE_IOVA = 0x40000000L;

    static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    static int readReg(VfioUserClient c, int region, long off) throws Exception {
        RegionReadReply r = (RegionReadReply) c.call(Command.REGION_READ, new RegionRead(off, region, 4));
        return ByteBuffer.wrap(r.data()).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    static void writeReg(VfioUserClient c, int region, long off, int v) throws Exception {
        c.call(Command.REGION_WRITE, new RegionWrite(off, region, 4, le32(v)));
    }

    static byte[] config(VfioUserClient c) throws Exception {
        return ((RegionReadReply) c.call(Command.REGION_READ, new RegionRead(0, VFIO_PCI_CONFIG_REGION_INDEX, 4096))).data();
    }

    /** Walks the capability list from 0x34 and the extended list from 0x100: id → offset. */
    static List<int[]> capabilities(byte[] cfg) {
        List<int[]> out = new ArrayList<>();
        int p = cfg[PciRegs.PCI_CAPABILITY_LIST] & 0xff;
        for (int guard = 0; p != 0 && guard < 48; guard++) {
            out.add(new int[] {cfg[p] & 0xff, p});
            p = cfg[p + 1] & 0xff;
        }
        ByteBuffer b = ByteBuffer.wrap(cfg).order(ByteOrder.LITTLE_ENDIAN);
        p = 0x100;
        for (int guard = 0; p != 0 && guard < 48; guard++) {
            int h = b.getInt(p);
            if (h == 0) {
                break;
            }
            out.add(new int[] {0x10000 | (h & 0xffff), p});
            p = h >>> 20;
        }
        return out;
    }

    static int capOffset(byte[] cfg, int id) {
        return capabilities(cfg).stream().filter(c -> c[0] == id).findFirst().orElseThrow()[1];
    }

    /** Enables memory decode, bus mastering and MSI-X with one eventfd on vector 0. */
    static Fd enableMsix(VfioUserClient c) throws Exception {
        byte[] cfg = config(c);
        writeReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_COMMAND,
                PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER);
        int msix = capOffset(cfg, PciRegs.PCI_CAP_ID_MSIX);
        c.call(Command.REGION_WRITE, new RegionWrite(msix + 2, VFIO_PCI_CONFIG_REGION_INDEX, 2,
                new byte[] {0, (byte) 0x80}));
        Fd irq = EventFd.create(true);
        c.call(Command.DEVICE_SET_IRQS, new DeviceSetIrqs(20, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
                2, 0, 1, new byte[0]), irq);
        return irq;
    }

    static void copy(VfioUserClient c, long src, long dst, int len) throws Exception {
        writeReg(c, 0, DmaCopyRegs.SRC_LO, (int) src);
        writeReg(c, 0, DmaCopyRegs.SRC_HI, (int) (src >>> 32));
        writeReg(c, 0, DmaCopyRegs.DST_LO, (int) dst);
        writeReg(c, 0, DmaCopyRegs.DST_HI, (int) (dst >>> 32));
        writeReg(c, 0, DmaCopyRegs.LEN, len);
        writeReg(c, 0, DmaCopyRegs.CTRL, DmaCopyRegs.CTRL_GO | DmaCopyRegs.CTRL_IRQ_ENABLE);
    }

    static void awaitIrq(Fd irq) throws Exception {
        assertEquals(0, Poll.readable(10_000, irq), "no MSI-X interrupt within 10 s");
        assertEquals(1, EventFd.read(irq));
    }

    @Test
    void example_device_copies_through_dma_and_raises_msix() throws Exception {
        try (TestServer s = new TestServer("dmacopy:vectors=4"); GuestRam ram = new GuestRam(1 << 21);
             VfioUserClient c = s.connect()) {
            Version v = c.version();
            assertEquals(0, v.major());
            assertEquals(16, v.capabilities().maxMsgFds());
            assertEquals(1 << 20, v.capabilities().maxDataXferSize());
            assertTrue(v.capabilities().writeMultiple(), "REGION_WRITE_MULTI is advertised because it is served");

            c.call(Command.DMA_MAP, new DmaMap(32, VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE, 0,
                    RAM_IOVA, 1 << 21), ram.fd);

            DeviceInfo info = (DeviceInfo) c.call(Command.DEVICE_GET_INFO, new DeviceGetInfo(16));
            assertEquals(VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI, info.flags());
            assertEquals(9, info.numRegions());
            assertEquals(5, info.numIrqs());

            assertEquals(4096, ((RegionInfo) c.call(Command.DEVICE_GET_REGION_INFO, new DeviceGetRegionInfo(32, 0))).size());
            assertEquals(0, ((RegionInfo) c.call(Command.DEVICE_GET_REGION_INFO, new DeviceGetRegionInfo(32, 1))).size());
            assertEquals(1 << 20, ((RegionInfo) c.call(Command.DEVICE_GET_REGION_INFO, new DeviceGetRegionInfo(32, 2))).size());
            assertEquals(4096, ((RegionInfo) c.call(Command.DEVICE_GET_REGION_INFO, new DeviceGetRegionInfo(32, 7))).size());
            assertEquals(4, ((IrqInfo) c.call(Command.DEVICE_GET_IRQ_INFO, new DeviceGetIrqInfo(16, 2))).count());
            assertEquals(0, ((IrqInfo) c.call(Command.DEVICE_GET_IRQ_INFO, new DeviceGetIrqInfo(16, 0))).count());

            byte[] cfg = config(c);
            ByteBuffer cb = ByteBuffer.wrap(cfg).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x1b36, cb.getShort(0) & 0xffff);
            assertEquals(0x11fe, cb.getShort(2) & 0xffff);
            assertEquals(List.of(PciRegs.PCI_CAP_ID_PM, PciRegs.PCI_CAP_ID_MSIX, PciRegs.PCI_CAP_ID_EXP,
                    0x10000 | PciRegs.PCI_EXT_CAP_ID_DSN), capabilities(cfg).stream().map(x -> x[0]).toList());
            assertEquals(0x0123456789abcdefL, cb.getLong(0x104), "DSN capability carries the serial number");

            // BAR sizing as QEMU does it: all-ones, read back the size mask with the type bits
            writeReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_BASE_ADDRESS_0 + 8, -1);
            writeReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_BASE_ADDRESS_0 + 12, -1);
            assertEquals(0xfff0000c, readReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_BASE_ADDRESS_0 + 8));
            assertEquals(0xffffffff, readReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_BASE_ADDRESS_0 + 12));

            Fd irq = enableMsix(c);
            assertEquals(DmaCopyRegs.ID_VALUE, readReg(c, 0, DmaCopyRegs.ID));
            writeReg(c, 0, DmaCopyRegs.SCRATCH, 0x5a5aa5a5);
            assertEquals(0x5a5aa5a5, readReg(c, 0, DmaCopyRegs.SCRATCH));

            byte[] pattern = new byte[3 * 4096 + 100];
            new Random(7).nextBytes(pattern);
            MemorySegment.copy(pattern, 0, ram.mem, ValueLayout.JAVA_BYTE, 0x1000, pattern.length);
            copy(c, RAM_IOVA + 0x1000, RAM_IOVA + 0x10000, pattern.length);
            awaitIrq(irq);
            assertEquals(DmaCopyRegs.STATUS_DONE, readReg(c, 0, DmaCopyRegs.STATUS));
            assertArrayEquals(pattern, ram.mem.asSlice(0x10000, pattern.length).toArray(ValueLayout.JAVA_BYTE));
            assertEquals(1, readReg(c, 0, DmaCopyRegs.COUNT));
            var stats = s.server.iovaSpace().statistics();
            assertEquals(1, stats.contiguousMultiPageCommands(), "one copy, each buffer one contiguous IOVA range");
            assertEquals(1, stats.rangesPerCommand()[1], "source + destination = two ranges");
            assertEquals(pattern.length, stats.bytesRead());
            assertEquals(pattern.length, stats.bytesWritten());

            // a source the guest never mapped: the command fails, the fault is filed with its IOVA
            copy(c, 0x7000_0000L, RAM_IOVA, 64);
            awaitIrq(irq);
            int status = readReg(c, 0, DmaCopyRegs.STATUS);
            assertEquals(DmaCopyRegs.STATUS_ERROR, status & 0xff);
            assertEquals(Fault.Kind.UNMAPPED.ordinal() + 1, status >>> 8);
            Fault f = s.server.iovaSpace().faults().recent().getLast();
            assertEquals(0x7000_0000L, f.faultIova());
            assertEquals("dmacopy0", f.device());

            irq.close();
        }
    }

    @Test
    void maps_without_fd_are_served_by_dma_read_and_write_messages() throws Exception {
        try (TestServer s = new TestServer("dmacopy"); GuestRam ram = new GuestRam(1 << 20);
             VfioUserClient c = s.connect()) {
            c.version();
            byte[] remote = new byte[1 << 16];
            c.serveDma(new VfioUserClient.GuestMemory() {
                @Override
                public byte[] read(long address, int count) {
                    byte[] out = new byte[count];
                    System.arraycopy(remote, (int) (address - REMOTE_IOVA), out, 0, count);
                    return out;
                }

                @Override
                public void write(long address, byte[] data) {
                    System.arraycopy(data, 0, remote, (int) (address - REMOTE_IOVA), data.length);
                }
            });
            c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, RAM_IOVA, 1 << 20), ram.fd);
            c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, REMOTE_IOVA, remote.length));
            Fd irq = enableMsix(c);
            byte[] pattern = new byte[20000];
            new Random(3).nextBytes(pattern);
            MemorySegment.copy(pattern, 0, ram.mem, ValueLayout.JAVA_BYTE, 0, pattern.length);

            copy(c, RAM_IOVA, REMOTE_IOVA + 0x100, pattern.length);
            awaitIrq(irq);
            assertEquals(DmaCopyRegs.STATUS_DONE, readReg(c, 0, DmaCopyRegs.STATUS));
            byte[] got = new byte[pattern.length];
            System.arraycopy(remote, 0x100, got, 0, got.length);
            assertArrayEquals(pattern, got, "DMA_WRITE messages carried the data into client memory");

            ram.mem.asSlice(0, pattern.length).fill((byte) 0);
            copy(c, REMOTE_IOVA + 0x100, RAM_IOVA + 0x8000, pattern.length);
            awaitIrq(irq);
            assertArrayEquals(pattern, ram.mem.asSlice(0x8000, pattern.length).toArray(ValueLayout.JAVA_BYTE));
            assertTrue(c.dmaRequestsServed() >= 2);
            irq.close();
        }
    }

    @Test
    void unmaps_reset_and_reconnect_leave_a_clean_device() throws Exception {
        try (TestServer s = new TestServer("dmacopy"); GuestRam ram = new GuestRam(1 << 20)) {
            try (VfioUserClient c = s.connect()) {
                c.version();
                for (int i = 0; i < 4; i++) {
                    c.call(Command.DMA_MAP, new DmaMap(32, 3, 0x1000L * i, 0x200000 + 0x1000L * i, 0x1000), ram.fd);
                }
                assertEquals(4, s.server.iovaSpace().liveMappings());
                IOExceptionAssert.errno(17, () -> c.call(Command.DMA_MAP, new DmaMap(32, 3, 0, 0x201000, 0x2000), ram.fd));
                // an unmap over nothing succeeds; one over two maps removes both
                c.call(Command.DMA_UNMAP, new DmaUnmap(24, 0, 0x9000_0000L, 0x10000));
                c.call(Command.DMA_UNMAP, new DmaUnmap(24, 0, 0x200000, 0x2000));
                assertEquals(2, s.server.iovaSpace().liveMappings());
                c.call(Command.DMA_UNMAP, new DmaUnmap(24, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0));
                assertEquals(0, s.server.iovaSpace().liveMappings());
                c.call(Command.DMA_MAP, new DmaMap(32, 1, 0, 0x300000, 0x1000), ram.fd);

                writeReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_COMMAND, PciRegs.PCI_COMMAND_MEMORY);
                writeReg(c, 0, DmaCopyRegs.SCRATCH, 42);
                c.call(Command.DEVICE_RESET, new DeviceReset());
                writeReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_COMMAND, PciRegs.PCI_COMMAND_MEMORY);
                assertEquals(0, readReg(c, 0, DmaCopyRegs.SCRATCH), "DEVICE_RESET clears registers");
                writeReg(c, 0, DmaCopyRegs.SCRATCH, 43);
                // posted writes, batched as QEMU does under load
                c.post(Command.REGION_WRITE_MULTI, new RegionWriteMulti(List.of(new Write(DmaCopyRegs.SCRATCH, 0, 4, 44),
                        new Write(DmaCopyRegs.LEN, 0, 4, 4096))));
                assertEquals(44, readReg(c, 0, DmaCopyRegs.SCRATCH));
                assertEquals(4096, readReg(c, 0, DmaCopyRegs.LEN));
            }
            // the client left: maps dropped, device reset, next client served
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (s.server.iovaSpace().liveMappings() != 0 && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
            assertEquals(0, s.server.iovaSpace().liveMappings());
            try (VfioUserClient c = s.connect()) {
                c.version();
                writeReg(c, VFIO_PCI_CONFIG_REGION_INDEX, PciRegs.PCI_COMMAND, PciRegs.PCI_COMMAND_MEMORY);
                assertEquals(0, readReg(c, 0, DmaCopyRegs.SCRATCH));
            }
            assertEquals(2, s.server.stats().sessions());
        }
    }
}
