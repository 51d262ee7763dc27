package io.iovalab.bench.nvme;

import io.iovalab.os.Fd;
import io.iovalab.os.Memfd;
import io.iovalab.os.Mmap;
import io.iovalab.server.VfioUserClient;
import io.iovalab.wire.Command;
import io.iovalab.wire.Message;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;

/**
 * A polling NVMe host driver without a guest: "guest RAM" is a memfd it maps and hands over with
 * VFIO_USER_DMA_MAP, the controller is set up through BAR0 register messages, and the doorbells
 * are rung either by stores into BAR0's mmapped doorbell page (the sparse-mmap area
 * GET_REGION_INFO offers, mapped from the fd that came with it) or, when the device offers no
 * such page, by posted REGION_WRITE messages. Completions are reaped by phase tag; the I/O CQ has
 * interrupts off, as a polling driver would create it.
 */
public final class NvmeHost implements AutoCloseable {
    static final long RAM_IOVA = 0x1000_0000L;
    static final long RAM_SIZE = 8L << 20;
    static final int DOORBELLS = 0x1000;
    private static final long ASQ = 0, ACQ = 0x1000, SQ1 = 0x10000, CQ1 = 0x30000, DATA = 0x100000;
    private static final int ADMIN_SIZE = 16;
    private static final VarHandle INT = ValueLayout.JAVA_INT.varHandle();

    private final VfioUserClient client;
    private final Arena arena = Arena.ofShared();
    private final Fd ramFd;
    private final MemorySegment ram;
    /** BAR0 as mapped from the region fd; null when every doorbell is a message */
    private final MemorySegment bar0;
    private final int qsize;
    private int asqTail;
    private int acqHead;
    private boolean acqPhase = true;
    private int sqTail;
    private int cqHead;
    private boolean cqPhase = true;
    private long messageDoorbells;

    public NvmeHost(Path socket, int qsize) throws IOException {
        if (qsize < 2 || qsize > 2048) {
            throw new IllegalArgumentException("queue size " + qsize);
        }
        this.qsize = qsize;
        client = VfioUserClient.connect(socket);
        client.version();
        ramFd = Memfd.create("b2-guest-ram", RAM_SIZE);
        ram = Mmap.map(ramFd, 0, RAM_SIZE, true, arena);
        client.call(Command.DMA_MAP, new Message.DmaMap(32, Message.VFIO_USER_F_DMA_REGION_READ
                | Message.VFIO_USER_F_DMA_REGION_WRITE, 0, RAM_IOVA, RAM_SIZE), ramFd);
        // PCI_COMMAND: memory decode and bus mastering
        client.call(Command.REGION_WRITE, new Message.RegionWrite(4, Message.VFIO_PCI_CONFIG_REGION_INDEX, 2,
                new byte[] {6, 0}));
        VfioUserClient.Answer info = client.callWithFds(Command.DEVICE_GET_REGION_INFO,
                new Message.DeviceGetRegionInfo(4096, Message.VFIO_PCI_BAR0_REGION_INDEX));
        Message.RegionInfo ri = (Message.RegionInfo) info.reply();
        MemorySegment mapped = null;
        for (Message.SparseArea a : ri.sparseAreas()) {
            if (a.offset() <= DOORBELLS && DOORBELLS < a.offset() + a.size() && info.fds().length == 1) {
                mapped = Mmap.map(info.fds()[0], ri.offset(), ri.size(), true, arena);
            }
        }
        for (Fd fd : info.fds()) {
            fd.close(); // the mapping keeps the memory
        }
        bar0 = mapped;
    }

    /** True if doorbells go through the mmapped page. */
    public boolean mappedDoorbells() {
        return bar0 != null;
    }

    /** Doorbells this host rang as REGION_WRITE messages. */
    public long messageDoorbells() {
        return messageDoorbells;
    }

    /** CC.EN with an admin queue pair, then I/O CQ 1 (interrupts off) and SQ 1 of {@code qsize}. */
    public void start() throws IOException {
        reg(0x24, (ADMIN_SIZE - 1) | (ADMIN_SIZE - 1) << 16); // AQA
        reg(0x28, (int) (RAM_IOVA + ASQ));
        reg(0x2c, (int) ((RAM_IOVA + ASQ) >>> 32));
        reg(0x30, (int) (RAM_IOVA + ACQ));
        reg(0x34, (int) ((RAM_IOVA + ACQ) >>> 32));
        reg(0x14, 1 | 6 << 16 | 4 << 20); // CC: EN, IOSQES 64, IOCQES 16
        long deadline = System.nanoTime() + 10_000_000_000L;
        while ((readReg(0x1c) & 1) == 0) {
            if (System.nanoTime() > deadline) {
                throw new IOException("CSTS.RDY never came");
            }
        }
        admin(0x05, RAM_IOVA + CQ1, 1 | (qsize - 1) << 16, 1);           // Create I/O CQ: PC, IEN off
        admin(0x01, RAM_IOVA + SQ1, 1 | (qsize - 1) << 16, 1 | 1 << 16); // Create I/O SQ on CQ 1
    }

    private void admin(int opcode, long prp1, int dw10, int dw11) throws IOException {
        long at = ASQ + 64L * asqTail;
        ram.asSlice(at, 64).fill((byte) 0);
        ram.set(ValueLayout.JAVA_INT, at, opcode | 1 << 16);
        ram.set(ValueLayout.JAVA_LONG, at + 24, prp1);
        ram.set(ValueLayout.JAVA_INT, at + 40, dw10);
        ram.set(ValueLayout.JAVA_INT, at + 44, dw11);
        asqTail = (asqTail + 1) % ADMIN_SIZE;
        doorbell(0, false, asqTail);
        long deadline = System.nanoTime() + 10_000_000_000L;
        long cqe = ACQ + 16L * acqHead;
        while ((((int) INT.getVolatile(ram, cqe + 12) >>> 16) & 1) != (acqPhase ? 1 : 0)) {
            if (System.nanoTime() > deadline) {
                throw new IOException("no completion for admin opcode 0x" + Integer.toHexString(opcode));
            }
            Thread.onSpinWait();
        }
        int status = (int) INT.getVolatile(ram, cqe + 12) >>> 17;
        acqHead = (acqHead + 1) % ADMIN_SIZE;
        if (acqHead == 0) {
            acqPhase = !acqPhase;
        }
        doorbell(0, true, acqHead);
        if (status != 0) {
            throw new IOException("admin opcode 0x" + Integer.toHexString(opcode) + " failed with status 0x"
                    + Integer.toHexString(status));
        }
    }

    /** Writes a 4 KiB Read (8 blocks of 512 bytes) for {@code cid} into the next SQ slot; ring with {@link #ringSq()}. */
    public void queueRead(int cid, long slba) {
        long at = SQ1 + 64L * sqTail;
        ram.set(ValueLayout.JAVA_INT, at, 0x02 | cid << 16);
        ram.set(ValueLayout.JAVA_INT, at + 4, 1);
        ram.set(ValueLayout.JAVA_LONG, at + 24, RAM_IOVA + DATA + 4096L * cid);
        ram.set(ValueLayout.JAVA_LONG, at + 32, 0);
        ram.set(ValueLayout.JAVA_LONG, at + 40, slba);
        ram.set(ValueLayout.JAVA_INT, at + 48, 7);
        sqTail = (sqTail + 1) % qsize;
    }

    public void ringSq() throws IOException {
        doorbell(1, false, sqTail);
    }

    /** The cid of the next I/O completion, or -1 if none is there yet; its status must be 0. */
    public int reap() throws IOException {
        long cqe = CQ1 + 16L * cqHead;
        int dw3 = (int) INT.getVolatile(ram, cqe + 12);
        if (((dw3 >>> 16) & 1) != (cqPhase ? 1 : 0)) {
            return -1;
        }
        if ((dw3 >>> 17) != 0) {
            throw new IOException("read cid " + (dw3 & 0xffff) + " failed with status 0x" + Integer.toHexString(dw3 >>> 17));
        }
        cqHead = (cqHead + 1) % qsize;
        if (cqHead == 0) {
            cqPhase = !cqPhase;
        }
        return dw3 & 0xffff;
    }

    public void ringCq() throws IOException {
        doorbell(1, true, cqHead);
    }

    private void doorbell(int qid, boolean cq, int value) throws IOException {
        int off = DOORBELLS + 8 * qid + (cq ? 4 : 0);
        if (bar0 != null) {
            // the store a guest makes to the mapped page: the SQE/CQE-head stores before it are ordered
            INT.setVolatile(bar0, (long) off, value);
        } else {
            messageDoorbells++;
            client.post(Command.REGION_WRITE, new Message.RegionWrite(off, Message.VFIO_PCI_BAR0_REGION_INDEX, 4, le32(value)));
        }
    }

    private void reg(int off, int value) throws IOException {
        client.call(Command.REGION_WRITE, new Message.RegionWrite(off, Message.VFIO_PCI_BAR0_REGION_INDEX, 4, le32(value)));
    }

    private int readReg(int off) throws IOException {
        Message.RegionReadReply r = (Message.RegionReadReply) client.call(Command.REGION_READ,
                new Message.RegionRead(off, Message.VFIO_PCI_BAR0_REGION_INDEX, 4));
        return ByteBuffer.wrap(r.data()).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    private static byte[] le32(int v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
    }

    @Override
    public void close() {
        client.close();
        arena.close();
        ramFd.close();
    }
}
