package io.iovalab.server;

import io.iovalab.pci.PciRegs;
import io.iovalab.wire.Command;
import io.iovalab.wire.Message.*;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static io.iovalab.wire.Message.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * An NVMe host driver reduced to the bone, over vfio-user as QEMU would carry it: guest RAM is a
 * memfd given to the server with DMA_MAP, registers and doorbells are REGION_WRITEs to BAR0,
 * completions are polled in the memfd (no interrupts). Queue 0 is the admin pair, queue 1 an
 * I/O pair; SQEs are written raw so a test can put anything in them.
 */
final class NvmeGuest {
    static final long RAM_IOVA = 0x100000;
    static final int RAM_SIZE = 4 << 20;
    static final long ASQ_AT = RAM_IOVA;
    static final long ACQ_AT = RAM_IOVA + 0x1000;
    static final long SQ1_AT = RAM_IOVA + 0x2000;
    static final long CQ1_AT = RAM_IOVA + 0x3000;
    /** free pages for PRP lists, SGL segments and data */
    static final long SCRATCH = RAM_IOVA + 0x10000;
    static final int QSIZE = 16;
    static final int CC = 0x14;
    static final int CSTS = 0x1c;
    static final int CSTS_RDY = 1;
    static final int CSTS_CFS = 2;
    static final int DOORBELLS = 0x1000;
    private static final long WAIT_NANOS = 5_000_000_000L;

    /** A completion entry. */
    record Cqe(int dw0, int sqHead, int sqid, int cid, int status) {
        int code() {
            return status & 0x7ff;
        }
    }

    final VfioUserClient c;
    final GuestRam ram;
    private final int[] sqTail = new int[2];
    private final int[] cqHead = new int[2];
    private final int[] cqSize = {QSIZE, QSIZE};
    private final boolean[] phase = {true, true};
    private int nextCid = 1;

    NvmeGuest(VfioUserClient c, GuestRam ram) throws Exception {
        this.c = c;
        this.ram = ram;
        c.version();
        if (ram != null) { // else the test maps guest memory itself
            c.call(Command.DMA_MAP, new DmaMap(32, VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE, 0, RAM_IOVA,
                    RAM_SIZE), ram.fd);
        }
        c.call(Command.REGION_WRITE, new RegionWrite(PciRegs.PCI_COMMAND, VFIO_PCI_CONFIG_REGION_INDEX, 2,
                new byte[] {(byte) (PciRegs.PCI_COMMAND_MEMORY | PciRegs.PCI_COMMAND_MASTER), 0}));
    }

    void reg(long offset, int value) throws Exception {
        c.call(Command.REGION_WRITE, new RegionWrite(offset, 0, 4,
                ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(value).array()));
    }

    int reg(long offset) throws Exception {
        RegionReadReply r = (RegionReadReply) c.call(Command.REGION_READ, new RegionRead(offset, 0, 4));
        return ByteBuffer.wrap(r.data()).order(ByteOrder.LITTLE_ENDIAN).getInt();
    }

    int csts() throws Exception {
        return reg(CSTS);
    }

    /** Controller reset, then enable with fresh admin rings, and I/O pair 1 (SQ 1 → CQ 1, CQ of {@code cq1Size}). */
    void start(int cq1Size) throws Exception {
        reg(CC, 0);
        awaitCsts(CSTS_RDY, 0);
        ram.mem.asSlice(0, SCRATCH - RAM_IOVA).fill((byte) 0);
        sqTail[0] = sqTail[1] = cqHead[0] = cqHead[1] = 0;
        phase[0] = phase[1] = true;
        cqSize[1] = cq1Size;
        reg(0x24, (QSIZE - 1) | (QSIZE - 1) << 16);
        reg(0x28, (int) ASQ_AT);
        reg(0x2c, 0);
        reg(0x30, (int) ACQ_AT);
        reg(0x34, 0);
        reg(CC, 1 | 6 << 16 | 4 << 20);
        awaitCsts(CSTS_RDY, CSTS_RDY);
        expectSuccess(admin(0x05, 0, CQ1_AT, 0, 1 | (cq1Size - 1) << 16, 1));
        expectSuccess(admin(0x01, 0, SQ1_AT, 0, 1 | (QSIZE - 1) << 16, 1 | 1 << 16));
    }

    private static void expectSuccess(Cqe c) {
        if (c == null || c.status() != 0) {
            throw new AssertionError("setting up the queues failed: " + c);
        }
    }

    void awaitCsts(int mask, int value) throws Exception {
        long deadline = System.nanoTime() + WAIT_NANOS;
        int v;
        while (((v = csts()) & mask) != value) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("CSTS stayed 0x" + Integer.toHexString(v));
            }
            Thread.sleep(1);
        }
    }

    /** An admin command with its completion, or null if none came (CSTS.CFS may say why). */
    Cqe admin(int opcode, int nsid, long prp1, long prp2, int dw10, int dw11) throws Exception {
        int[] dw = new int[16];
        dw[0] = opcode;
        dw[1] = nsid;
        dw[6] = (int) prp1;
        dw[7] = (int) (prp1 >>> 32);
        dw[8] = (int) prp2;
        dw[9] = (int) (prp2 >>> 32);
        dw[10] = dw10;
        dw[11] = dw11;
        return command(0, dw);
    }

    /** Writes {@code dw} (CID filled in) to SQ {@code qid}, rings, and waits for the completion. */
    Cqe command(int qid, int[] dw) throws Exception {
        int cid = submit(qid, dw);
        Cqe c = next(qid);
        if (c != null && c.cid() != cid) {
            throw new AssertionError("completion for cid " + c.cid() + ", expected " + cid + ": " + c);
        }
        return c;
    }

    int submit(int qid, int[] dw) throws Exception {
        int cid = nextCid++ & 0xffff;
        writeSqe(qid, dw, cid);
        ring(qid, sqTail[qid]);
        return cid;
    }

    /** Writes an SQE at the tail without ringing (several can then go with one doorbell). */
    void writeSqe(int qid, int[] dw, int cid) {
        long at = (qid == 0 ? ASQ_AT : SQ1_AT) + 64L * sqTail[qid] - RAM_IOVA;
        for (int i = 0; i < 16; i++) {
            ram.mem.set(JAVA_INT_UNALIGNED, at + 4L * i, i == 0 ? (dw[0] & 0xffff) | cid << 16 : dw[i]);
        }
        sqTail[qid] = (sqTail[qid] + 1) % QSIZE;
    }

    void ring(int qid, int tail) throws Exception {
        reg(DOORBELLS + 8L * qid, tail);
    }

    int nextCid() {
        return nextCid & 0xffff;
    }

    /** The next completion on CQ {@code qid} within the deadline, else null. */
    Cqe next(int qid) throws Exception {
        long deadline = System.nanoTime() + WAIT_NANOS;
        Cqe c;
        while ((c = poll(qid)) == null) {
            if (System.nanoTime() - deadline > 0 || (csts() & CSTS_CFS) != 0) {
                return poll(qid);
            }
            Thread.onSpinWait();
        }
        return c;
    }

    Cqe poll(int qid) throws Exception {
        long at = (qid == 0 ? ACQ_AT : CQ1_AT) + 16L * cqHead[qid] - RAM_IOVA;
        int dw3 = ram.mem.get(JAVA_INT_UNALIGNED, at + 12);
        if (((dw3 >>> 16) & 1) != (phase[qid] ? 1 : 0)) {
            return null;
        }
        int dw2 = ram.mem.get(JAVA_INT_UNALIGNED, at + 8);
        Cqe c = new Cqe(ram.mem.get(JAVA_INT_UNALIGNED, at), dw2 & 0xffff, dw2 >>> 16, dw3 & 0xffff, dw3 >>> 17);
        int size = qid == 0 ? QSIZE : cqSize[qid];
        cqHead[qid] = (cqHead[qid] + 1) % size;
        if (cqHead[qid] == 0) {
            phase[qid] = !phase[qid];
        }
        reg(DOORBELLS + 8L * qid + 4, cqHead[qid]);
        return c;
    }

    MemorySegment at(long iova) {
        return ram.mem.asSlice(iova - RAM_IOVA);
    }

    void putLong(long iova, long v) {
        ram.mem.set(JAVA_LONG_UNALIGNED, iova - RAM_IOVA, v);
    }

    /** An SGL descriptor at {@code iova}: address, length, type (upper nibble of byte 15). */
    void sglDescriptor(long iova, long address, int length, int type) {
        putLong(iova, address);
        ram.mem.set(JAVA_LONG_UNALIGNED, iova + 8 - RAM_IOVA, Integer.toUnsignedLong(length) | (long) (type << 4) << 56);
    }
}
