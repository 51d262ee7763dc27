package io.iovalab.nvme;

import io.iovalab.iommu.Backing;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.spi.DeviceEvent;
import io.iovalab.spi.DeviceTrace;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static io.iovalab.nvme.NvmeRegs.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED;

/**
 * A host driver reduced to what the controller tests need: guest RAM behind a real IOVA space,
 * an admin queue pair and one I/O queue pair, commands written as a driver writes them and
 * completions consumed by phase tag. Waits are bounded polls on the device's worker.
 */
final class TestHost implements AutoCloseable {
    static final long BASE = 0x10_0000;
    static final long ASQ_AT = BASE;
    static final long ACQ_AT = BASE + 0x1000;
    static final long SQ1_AT = BASE + 0x2000;
    static final long CQ1_AT = BASE + 0x3000;
    static final long DATA_AT = BASE + 0x10000;
    static final int QSIZE = 16;
    private static final long WAIT_NANOS = 10_000_000_000L;

    /** One completion entry as the host reads it. */
    record Cqe(int dw0, int sqHead, int sqid, int cid, int status) {
        boolean dnr() {
            return (status & Status.DNR) != 0;
        }

        int code() {
            return status & 0x7ff;
        }
    }

    final Arena arena = Arena.ofShared();
    final MemorySegment ram = arena.allocate(1 << 20, 4096);
    final IovaSpace space = new IovaSpace("nvme-test", null);
    final DeviceTrace trace = new DeviceTrace("nvme-test");
    final List<DeviceEvent> events = new CopyOnWriteArrayList<>();
    final NvmeController controller;
    final NvmeDevice device;
    private final int[] sqTail = new int[2];
    private final int[] cqHead = new int[2];
    private final boolean[] phase = {true, true};
    private int nextCid = 100;

    /** Doorbells the host stores straight into memory, as a guest does through the mmapped page; null when trapped. */
    final MemorySegment doorbellPage;

    TestHost() throws Exception {
        this(Doorbells.Mode.TRAP);
    }

    TestHost(Doorbells.Mode doorbells) throws Exception {
        Backing b = new Backing() {
            @Override
            public MemorySegment segment() {
                return ram;
            }

            @Override
            public void retain() {
            }

            @Override
            public void release() {
            }

            @Override
            public String describe() {
                return "test-ram";
            }
        };
        space.setBusMasterEnabled(true);
        space.map(BASE, 1 << 20, b, 0, true, true);
        trace.subscribe(events::add);
        NvmeConfig config = new NvmeConfig(1 << 20, 1, 0, "ram", null, 1, 64, 5, true, false, "T", "test", 2,
                doorbells, DoorbellPolling.DEFAULT);
        doorbellPage = doorbells == Doorbells.Mode.MMAP ? arena.allocate(NvmeDevice.BAR0_SIZE, 4096) : null;
        controller = new NvmeController(config, List.of(new Namespace(1, new RamBackend(1 << 20), 0)), space,
                r -> {
                    Thread t = new Thread(r, "nvme-test-worker");
                    t.setDaemon(true);
                    return t;
                }, trace, doorbellPage == null ? new Doorbells.Trapped(2) : new Doorbells.Mapped(doorbellPage, 2));
        device = new NvmeDevice(controller);
    }

    /** Enables the controller and creates I/O queue pair 1 (CQ 1 with interrupts on vector 1). */
    TestHost start() {
        enable();
        Cqe cq = admin(Opcodes.CREATE_IO_CQ, 0, CQ1_AT, 1 | (QSIZE - 1) << 16, 1 | 2 | 1 << 16);
        Cqe sq = admin(Opcodes.CREATE_IO_SQ, 0, SQ1_AT, 1 | (QSIZE - 1) << 16, 1 | 1 << 16);
        if (cq.status() != 0 || sq.status() != 0) {
            throw new AssertionError("creating the I/O queues failed: " + cq + " " + sq);
        }
        return this;
    }

    void enable() {
        ram.asSlice(0, DATA_AT - BASE).fill((byte) 0); // fresh rings, as a driver allocates them after a reset
        controller.write(AQA, 4, (QSIZE - 1) | (QSIZE - 1) << 16);
        controller.write(ASQ, 8, ASQ_AT);
        controller.write(ACQ, 8, ACQ_AT);
        controller.write(CC, 4, CC_EN | 6 << 16 | 4 << 20);
        awaitCsts(CSTS_RDY, CSTS_RDY);
        sqTail[0] = sqTail[1] = cqHead[0] = cqHead[1] = 0;
        phase[0] = phase[1] = true;
    }

    void disable() {
        controller.write(CC, 4, 0);
        awaitCsts(CSTS_RDY, 0);
    }

    int csts() {
        return (int) controller.read(CSTS, 4);
    }

    void awaitCsts(int mask, int value) {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while ((csts() & mask) != value) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("CSTS stayed 0x" + Integer.toHexString(csts()));
            }
            Thread.onSpinWait();
        }
    }

    /** Submits an admin command and waits for its completion. */
    Cqe admin(int opcode, int nsid, long prp1, int dw10, int dw11) {
        int cid = submit(0, opcode, nsid, prp1, dw10, dw11, 0, 0);
        Cqe c = next(0);
        if (c == null || c.cid() != cid) {
            throw new AssertionError("admin completion for cid " + cid + ": " + c);
        }
        return c;
    }

    /** Submits a Read or Write of {@code nlb} 512-byte blocks at {@code slba}, data at DATA_AT + 4 KiB * slot; returns its cid. */
    int io(int opcode, long slba, int nlb, int slot) {
        long lba = slba;
        return submit(1, opcode, 1, DATA_AT + 4096L * slot, 0, 0, (int) lba, (int) (lba >>> 32), nlb - 1);
    }

    int submit(int qid, int opcode, int nsid, long prp1, int dw10, int dw11, int... more) {
        int cid = nextCid++;
        long at = (qid == 0 ? ASQ_AT : SQ1_AT) + 64L * sqTail[qid];
        ram.asSlice(at - BASE, 64).fill((byte) 0);
        put(at, opcode | cid << 16);
        put(at + 4, nsid);
        ram.set(JAVA_LONG_UNALIGNED, at + 24 - BASE, prp1);
        if (qid == 0) {
            put(at + 40, dw10);
            put(at + 44, dw11);
        } else {
            put(at + 40, more[0]);  // SLBA low
            put(at + 44, more[1]);  // SLBA high
            put(at + 48, more[2]);  // NLB - 1
        }
        sqTail[qid] = (sqTail[qid] + 1) % QSIZE;
        ringDoorbell(DOORBELLS + 8L * qid, sqTail[qid]);
        return cid;
    }

    /** A trapped MMIO write, or with mmapped doorbells a plain store that nobody announces. */
    private void ringDoorbell(long offset, int value) {
        if (doorbellPage == null) {
            controller.write(offset, 4, value);
        } else {
            java.lang.invoke.VarHandle.releaseFence();
            doorbellPage.set(java.lang.foreign.ValueLayout.JAVA_INT, offset, value);
        }
    }

    /** The next completion on CQ {@code qid}, waiting for it; null if none arrives. */
    Cqe next(int qid) {
        long deadline = System.nanoTime() + WAIT_NANOS;
        Cqe c;
        while ((c = poll(qid)) == null) {
            if (System.nanoTime() - deadline > 0) {
                return null;
            }
            Thread.onSpinWait();
        }
        return c;
    }

    /** The next completion on CQ {@code qid} if the controller has posted one, else null. */
    Cqe poll(int qid) {
        long at = (qid == 0 ? ACQ_AT : CQ1_AT) + 16L * cqHead[qid] - BASE;
        int dw3 = ram.get(JAVA_INT_UNALIGNED, at + 12);
        if (((dw3 >>> 16) & 1) != (phase[qid] ? 1 : 0)) {
            return null;
        }
        int dw2 = ram.get(JAVA_INT_UNALIGNED, at + 8);
        Cqe c = new Cqe(ram.get(JAVA_INT_UNALIGNED, at), dw2 & 0xffff, dw2 >>> 16, dw3 & 0xffff, dw3 >>> 17);
        cqHead[qid] = (cqHead[qid] + 1) % QSIZE;
        if (cqHead[qid] == 0) {
            phase[qid] = !phase[qid];
        }
        ringDoorbell(DOORBELLS + 8L * qid + 4, cqHead[qid]);
        return c;
    }

    /** The traced events of {@code kind} on {@code queue}, once there are at least {@code atLeast} (or the wait ran out). */
    List<DeviceEvent> awaitEvents(String kind, int queue, int atLeast) {
        long deadline = System.nanoTime() + WAIT_NANOS;
        while (true) {
            List<DeviceEvent> found = new ArrayList<>();
            for (DeviceEvent e : events) {
                if (e.kind().equals(kind) && e.queue() == queue) {
                    found.add(e);
                }
            }
            if (found.size() >= atLeast || System.nanoTime() - deadline > 0) {
                return found;
            }
            Thread.onSpinWait();
        }
    }

    byte[] media(long offset, int length) throws Exception {
        byte[] b = new byte[length];
        controller.namespaces.getFirst().backend.read(offset, b, length);
        return b;
    }

    void fillData(int slot, byte value) {
        ram.asSlice(DATA_AT - BASE + 4096L * slot, 4096).fill(value);
    }

    private void put(long iova, int v) {
        ram.set(JAVA_INT_UNALIGNED, iova - BASE, v);
    }

    @Override
    public void close() {
        device.close();
        space.close();
        arena.close();
    }
}
