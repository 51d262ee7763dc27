package io.iovalab.server;

import io.iovalab.iommu.Fault;
import io.iovalab.iommu.TraceEvent;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import static io.iovalab.server.NvmeGuest.*;
import static java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Issue 12, point 2: what a hostile guest can put in submission queue entries, queue commands and
 * doorbells, written through a vfio-user client into a memfd the server maps with DMA_MAP. Each
 * command must complete with an error status, or the controller must go fatal (CSTS.CFS) where the
 * spec allows it and serve again after a reset. Throughout, no exception may reach a device
 * thread or the message loop, no DMA may succeed outside the IOMMU map, and every refused access
 * must be one that really lies outside it.
 */
class NvmeSqeFuzzTest {
    // status codes (SCT << 8 | SC) from the NVMe base specification
    static final int SUCCESS = 0x000;
    static final int INVALID_FIELD = 0x002;
    static final int DATA_TRANSFER_ERROR = 0x004;
    static final int INTERNAL_ERROR = 0x006;
    static final int INVALID_SGL_SEGMENT_DESCRIPTOR = 0x00d;
    static final int INVALID_NUMBER_OF_SGL_DESCRIPTORS = 0x00e;
    static final int DATA_SGL_LENGTH_INVALID = 0x00f;
    static final int SGL_DESCRIPTOR_TYPE_INVALID = 0x011;
    static final int INVALID_PRP_OFFSET = 0x013;
    static final int LBA_OUT_OF_RANGE = 0x080;
    static final int COMPLETION_QUEUE_INVALID = 0x100;
    static final int INVALID_QUEUE_IDENTIFIER = 0x101;
    static final int INVALID_QUEUE_SIZE = 0x102;
    static final int INVALID_INTERRUPT_VECTOR = 0x108;
    static final int INVALID_QUEUE_DELETION = 0x10c;
    // opcodes
    static final int DELETE_IO_SQ = 0x00, CREATE_IO_SQ = 0x01, DELETE_IO_CQ = 0x04, CREATE_IO_CQ = 0x05;
    static final int WRITE = 0x01, READ = 0x02;
    static final int PSDT_SGL = 1 << 14;
    static final int SGL_DATA_BLOCK = 0, SGL_BIT_BUCKET = 1, SGL_SEGMENT = 2, SGL_LAST_SEGMENT = 3;
    static final long OUTSIDE = 0x7000_0000_0000L;
    static final long DATA = SCRATCH + 0x100000;

    TestServer server;
    GuestRam ram;
    VfioUserClient client;
    NvmeGuest g;
    final List<String> outsideTheMap = new CopyOnWriteArrayList<>();
    final Consumer<TraceEvent> watch = e -> {
        boolean access = switch (e.kind()) {
            case READ, WRITE, CONTROL_READ, CONTROL_WRITE -> true;
            default -> false;
        };
        if (access && !inMap(e.iova(), e.length())) {
            outsideTheMap.add(e.toString());
        }
    };

    static boolean inMap(long iova, long length) {
        return iova >= RAM_IOVA && length >= 0 && iova + length <= RAM_IOVA + RAM_SIZE;
    }

    @BeforeEach
    void start() throws Exception {
        server = new TestServer("nvme:backend=ram,size=16M,queues=4,mqes=64,vectors=5");
        server.server.iovaSpace().trace().subscribe(watch);
        ram = new GuestRam(RAM_SIZE);
        client = server.connect();
        g = new NvmeGuest(client, ram);
        g.start(QSIZE);
    }

    @AfterEach
    void stop() throws Exception {
        try {
            assertEquals(List.of(), outsideTheMap, "DMA that succeeded outside the IOMMU map");
            for (Fault f : server.server.iovaSpace().faults().recent()) {
                assertFalse(inMap(f.faultIova(), 1), "an access inside the map was refused: " + f);
            }
            assertEquals(0, server.server.stats().deviceThreadExceptions(), "exceptions that reached a device thread");
            assertEquals(0, server.server.stats().internalErrors(), "requests that made the message loop throw");
        } finally {
            server.server.iovaSpace().trace().unsubscribe(watch);
            client.close();
            ram.close();
            server.close();
        }
    }

    /** A Read or Write of {@code nlb} 512-byte blocks at LBA 0 on SQ 1. */
    static int[] io(int opcode, int nlb, long dptr1, long dptr2, boolean sgl) {
        int[] dw = new int[16];
        dw[0] = opcode | (sgl ? PSDT_SGL : 0);
        dw[1] = 1;
        dw[6] = (int) dptr1;
        dw[7] = (int) (dptr1 >>> 32);
        dw[8] = (int) dptr2;
        dw[9] = (int) (dptr2 >>> 32);
        dw[12] = nlb - 1;
        return dw;
    }

    /** SGL1 in CDW6..9: address, length, descriptor type in the top byte. */
    static int[] ioSgl(int opcode, int nlb, long address, int length, int type) {
        return io(opcode, nlb, address, Integer.toUnsignedLong(length) | (long) (type << 4) << 56, true);
    }

    int status(int qid, int[] dw) throws Exception {
        NvmeGuest.Cqe c = g.command(qid, dw);
        assertNotNull(c, "no completion, CSTS 0x" + Integer.toHexString(g.csts()));
        assertNotEquals(INTERNAL_ERROR, c.code(), "Internal Error means an exception inside the controller");
        return c.code();
    }

    void stillServes() throws Exception {
        assertEquals(SUCCESS, status(1, io(READ, 8, DATA, 0, false)), () -> "a valid read after the abuse; last fault "
                + server.server.iovaSpace().faults().recent().getLast() + "; CSTS 0x" + Integer.toHexString(cstsQuietly()));
    }

    private int cstsQuietly() {
        try {
            return g.csts();
        } catch (Exception e) {
            return -1;
        }
    }

    @Test
    void bad_and_looping_prp_lists_complete_with_errors() throws Exception {
        long list = SCRATCH;
        assertEquals(INVALID_PRP_OFFSET, status(1, io(READ, 8, DATA + 2, 0, false)), "PRP1 not dword aligned");
        assertEquals(INVALID_PRP_OFFSET, status(1, io(READ, 16, DATA, DATA + 0x800, false)), "PRP2 not page aligned");
        assertEquals(DATA_TRANSFER_ERROR, status(1, io(READ, 8, OUTSIDE, 0, false)), "data outside the map");
        assertEquals(DATA_TRANSFER_ERROR, status(1, io(READ, 64, DATA, OUTSIDE, false)), "PRP list outside the map");

        g.putLong(list, DATA + 0x1000);
        g.putLong(list + 8, DATA + 0x1004);
        assertEquals(INVALID_PRP_OFFSET, status(1, io(READ, 24, DATA, list, false)), "list entry not page aligned");

        g.putLong(list, OUTSIDE);
        g.putLong(list + 8, OUTSIDE + 0x1000);
        assertEquals(DATA_TRANSFER_ERROR, status(1, io(WRITE, 24, DATA, list, false)), "list entries outside the map");

        // a list whose chain pointer points back at itself: one data entry per turn, bounded by the length
        long tail = list + 0x2000 - 16;
        g.putLong(tail, DATA + 0x2000);
        g.putLong(tail + 8, tail);
        int looped = status(1, io(READ, 256, DATA, tail, false));
        assertTrue(looped == SUCCESS || looped == INVALID_PRP_OFFSET, "a looping PRP list ends: 0x" + Integer.toHexString(looped));

        // a chain pointer that leaves the map
        g.putLong(tail + 8, OUTSIDE);
        assertEquals(DATA_TRANSFER_ERROR, status(1, io(READ, 256, DATA, tail, false)));
        stillServes();
    }

    @Test
    void sgl_chains_that_loop_or_are_huge_are_cut_off() throws Exception {
        long seg = SCRATCH;
        // a Segment descriptor that points at itself, forever
        g.sglDescriptor(seg, seg, 16, SGL_SEGMENT);
        assertEquals(INVALID_NUMBER_OF_SGL_DESCRIPTORS, status(1, ioSgl(READ, 8, seg, 16, SGL_SEGMENT)));
        // two segments pointing at each other
        g.sglDescriptor(seg, DATA, 512, SGL_DATA_BLOCK);
        g.sglDescriptor(seg + 16, seg + 0x1000, 32, SGL_SEGMENT);
        g.sglDescriptor(seg + 0x1000, DATA + 0x1000, 512, SGL_DATA_BLOCK);
        g.sglDescriptor(seg + 0x1010, seg, 32, SGL_SEGMENT);
        int ping = status(1, ioSgl(READ, 128, seg, 32, SGL_SEGMENT));
        assertTrue(ping == INVALID_NUMBER_OF_SGL_DESCRIPTORS || ping == DATA_SGL_LENGTH_INVALID,
                "segments looping through each other: 0x" + Integer.toHexString(ping));
        // a segment of 2^28 descriptors
        ram.mem.asSlice(seg - RAM_IOVA, 0x20000).fill((byte) 0);
        int huge = status(1, ioSgl(READ, 8, seg, 0xffff_fff0, SGL_LAST_SEGMENT));
        assertTrue(huge == INVALID_NUMBER_OF_SGL_DESCRIPTORS || huge == DATA_TRANSFER_ERROR,
                "a huge segment: 0x" + Integer.toHexString(huge));
        // one that starts inside the map and runs out of it
        int runsOut = status(1, ioSgl(READ, 8, RAM_IOVA + RAM_SIZE - 64, 0xffff_fff0, SGL_LAST_SEGMENT));
        assertEquals(DATA_TRANSFER_ERROR, runsOut, "segment running out of the map");
        assertEquals(INVALID_SGL_SEGMENT_DESCRIPTOR, status(1, ioSgl(READ, 8, seg, 24, SGL_LAST_SEGMENT)), "length not 16n");
        assertEquals(INVALID_SGL_SEGMENT_DESCRIPTOR, status(1, ioSgl(READ, 8, seg, 0, SGL_SEGMENT)), "empty segment");
        assertEquals(DATA_SGL_LENGTH_INVALID, status(1, ioSgl(READ, 8, DATA, 512, SGL_DATA_BLOCK)), "shorter than the transfer");
        assertEquals(DATA_TRANSFER_ERROR, status(1, ioSgl(READ, 8, OUTSIDE, 4096, SGL_DATA_BLOCK)), "data outside the map");
        assertEquals(DATA_TRANSFER_ERROR, status(1, ioSgl(WRITE, 8, RAM_IOVA + RAM_SIZE - 512, 0xffff_ffff, SGL_DATA_BLOCK)),
                "a data block running out of the map");
        assertEquals(SGL_DESCRIPTOR_TYPE_INVALID, status(1, ioSgl(WRITE, 8, 0, 4096, SGL_BIT_BUCKET)), "bit bucket in a write");
        assertEquals(SGL_DESCRIPTOR_TYPE_INVALID, status(1, ioSgl(READ, 8, DATA, 4096, 7)), "reserved descriptor type");
        int[] adminSgl = new int[16];
        adminSgl[0] = 0x06 | PSDT_SGL;
        adminSgl[10] = 1;
        assertEquals(INVALID_FIELD, status(0, adminSgl), "SGL on the admin queue");
        stillServes();
    }

    @Test
    void lba_ranges_that_wrap_around_2_to_the_64_are_out_of_range() throws Exception {
        for (long slba : new long[] {Long.MAX_VALUE, Long.MAX_VALUE - 3, -1L, 32768 - 7}) {
            int[] dw = io(READ, 8, DATA, 0, false);
            dw[10] = (int) slba;
            dw[11] = (int) (slba >>> 32);
            assertEquals(LBA_OUT_OF_RANGE, status(1, dw), "SLBA 0x" + Long.toHexString(slba));
        }
        // Dataset Management: a range whose end wraps
        g.putLong(SCRATCH, 0xffff_ffffL << 32);      // context attributes 0, length 2^32-1 blocks
        g.putLong(SCRATCH + 8, Long.MAX_VALUE - 5);   // starting LBA
        int[] dsm = io(0x09, 1, SCRATCH, 0, false);
        dsm[10] = 0;       // one range
        dsm[11] = 4;       // deallocate
        dsm[12] = 0;
        assertEquals(LBA_OUT_OF_RANGE, status(1, dsm));
        stillServes();
    }

    @Test
    void queue_ids_sizes_and_deletions_out_of_range_are_refused() throws Exception {
        long ring = SCRATCH;
        for (int qid : new int[] {0, 5, 0xffff, 1}) {
            assertEquals(INVALID_QUEUE_IDENTIFIER, g.admin(CREATE_IO_CQ, 0, ring, 0, qid | 15 << 16, 1).code(), "CQ id " + qid);
            assertEquals(INVALID_QUEUE_IDENTIFIER, g.admin(CREATE_IO_SQ, 0, ring, 0, qid | 15 << 16, 1 | 1 << 16).code(),
                    "SQ id " + qid);
        }
        assertEquals(INVALID_QUEUE_SIZE, g.admin(CREATE_IO_CQ, 0, ring, 0, 2, 1).code(), "a CQ of one entry");
        assertEquals(INVALID_QUEUE_SIZE, g.admin(CREATE_IO_CQ, 0, ring, 0, 2 | 64 << 16, 1).code(), "a CQ above MQES");
        assertEquals(INVALID_QUEUE_SIZE, g.admin(CREATE_IO_CQ, 0, ring, 0, 2 | 0xffff << 16, 1).code(), "a CQ of 65536");
        assertEquals(INVALID_INTERRUPT_VECTOR, g.admin(CREATE_IO_CQ, 0, ring, 0, 2 | 15 << 16, 1 | 2 | 5 << 16).code());
        assertEquals(COMPLETION_QUEUE_INVALID, g.admin(CREATE_IO_SQ, 0, ring, 0, 2 | 15 << 16, 1 | 3 << 16).code());
        assertEquals(INVALID_QUEUE_SIZE, g.admin(CREATE_IO_SQ, 0, ring, 0, 2 | 64 << 16, 1 | 1 << 16).code(), "an SQ above MQES");
        assertEquals(INVALID_QUEUE_IDENTIFIER, g.admin(DELETE_IO_SQ, 0, 0, 0, 0, 0).code(), "the admin SQ");
        assertEquals(INVALID_QUEUE_IDENTIFIER, g.admin(DELETE_IO_SQ, 0, 0, 0, 3, 0).code(), "an SQ that does not exist");
        assertEquals(INVALID_QUEUE_IDENTIFIER, g.admin(DELETE_IO_CQ, 0, 0, 0, 0xffff, 0).code());
        assertEquals(INVALID_QUEUE_DELETION, g.admin(DELETE_IO_CQ, 0, 0, 0, 1, 0).code(), "a CQ an SQ still uses");
        stillServes();
    }

    @Test
    void doorbells_past_the_queue_or_for_missing_queues_run_nothing() throws Exception {
        long before = commandCount();
        g.ring(1, QSIZE + 1);           // tail beyond the SQ
        g.ring(1, 0xffff);
        g.reg(DOORBELLS + 8 * 1000, 3);  // a queue far beyond any
        g.reg(DOORBELLS + 2, 1);         // not dword aligned
        g.reg(DOORBELLS + 8 * 1 + 4, QSIZE + 3); // CQ head beyond the CQ
        // queue 3's doorbell rung before the queue exists: once created, it must not run 5 stale entries
        g.ring(3, 5);
        long cq3 = SCRATCH, sq3 = SCRATCH + 0x1000;
        ram.mem.asSlice(cq3 - RAM_IOVA, 0x2000).fill((byte) 0);
        assertEquals(SUCCESS, g.admin(CREATE_IO_CQ, 0, cq3, 0, 3 | 15 << 16, 1).code());
        assertEquals(SUCCESS, g.admin(CREATE_IO_SQ, 0, sq3, 0, 3 | 15 << 16, 1 | 3 << 16).code());
        Thread.sleep(300);
        assertEquals(0, (ram.mem.get(JAVA_INT_UNALIGNED, cq3 - RAM_IOVA + 12) >>> 16) & 1,
                "a completion on CQ 3 although nothing was submitted to SQ 3");
        assertEquals(before + 2, commandCount(), "only the two admin commands ran");
        assertEquals(0, g.csts() & CSTS_CFS);
        stillServes();
    }

    private long commandCount() {
        return ((Number) server.server.device().inspect().get("commands")).longValue();
    }

    @Test
    void a_full_cq_holds_completions_back_until_the_host_makes_room() throws Exception {
        g.start(2); // CQ 1 holds one entry
        int first = g.nextCid();
        for (int i = 0; i < 8; i++) {
            g.writeSqe(1, io(READ, 8, DATA + 4096L * i, 0, false), first + i);
        }
        g.ring(1, 8);
        Thread.sleep(200);
        long cq = CQ1_AT - RAM_IOVA;
        assertEquals(1, (ram.mem.get(JAVA_INT_UNALIGNED, cq + 12) >>> 16) & 1, "the one free slot got a completion");
        assertEquals(0, (ram.mem.get(JAVA_INT_UNALIGNED, cq + 16 + 12) >>> 16) & 1, "no completion into a full CQ");
        for (int i = 0; i < 8; i++) {
            NvmeGuest.Cqe c = g.next(1);
            assertNotNull(c, "completion " + i + " once there is room");
            assertEquals(first + i, c.cid());
            assertEquals(SUCCESS, c.code());
        }
        assertEquals(0, g.csts() & CSTS_CFS);
    }

    @Test
    void deleting_queues_in_use_leaves_a_controller_that_serves() throws Exception {
        for (int i = 0; i < 12; i++) {
            g.writeSqe(1, io(i % 2 == 0 ? READ : WRITE, 64, DATA + 0x10000L * (i % 8), 0, false), 0x100 + i);
        }
        g.ring(1, 12);
        assertEquals(SUCCESS, g.admin(DELETE_IO_SQ, 0, 0, 0, 1, 0).code(), "Delete I/O SQ while it has commands");
        assertEquals(SUCCESS, g.admin(DELETE_IO_CQ, 0, 0, 0, 1, 0).code());
        g.ring(1, 3); // the deleted SQ's doorbell
        assertEquals(0, g.csts() & CSTS_CFS);
        g.start(QSIZE);
        stillServes();
    }

    @Test
    void rings_outside_the_map_make_the_controller_fatal_and_a_reset_recovers_it() throws Exception {
        assertEquals(SUCCESS, g.admin(CREATE_IO_CQ, 0, SCRATCH, 0, 2 | 15 << 16, 1).code());
        assertEquals(SUCCESS, g.admin(CREATE_IO_SQ, 0, OUTSIDE, 0, 2 | 15 << 16, 1 | 2 << 16).code());
        g.ring(2, 1);
        g.awaitCsts(CSTS_CFS, CSTS_CFS); // the SQ cannot be fetched: Controller Fatal Status
        g.start(QSIZE);
        stillServes();
        // a CQ outside the map: the completion cannot be posted
        assertEquals(SUCCESS, g.admin(CREATE_IO_CQ, 0, OUTSIDE, 0, 2 | 15 << 16, 1).code());
        assertEquals(SUCCESS, g.admin(CREATE_IO_SQ, 0, SCRATCH, 0, 2 | 15 << 16, 1 | 2 << 16).code());
        ram.mem.asSlice(SCRATCH - RAM_IOVA, 64).fill((byte) 0);
        ram.mem.set(JAVA_INT_UNALIGNED, SCRATCH - RAM_IOVA, 0 | 7 << 16); // Flush
        ram.mem.set(JAVA_INT_UNALIGNED, SCRATCH - RAM_IOVA + 4, 1);
        g.ring(2, 1);
        g.awaitCsts(CSTS_CFS, CSTS_CFS);
        g.start(QSIZE);
        stillServes();
        assertTrue(server.server.iovaSpace().faults().total() >= 2, "the refused ring accesses are in the fault log");
    }

    @Test
    void random_sqes_each_complete_with_a_status_and_never_an_internal_error() throws Exception {
        long seed = Long.getLong("fuzz.seed", 0x5eedL);
        Random rnd = new Random(seed);
        Map<Integer, Integer> statuses = new TreeMap<>();
        int fatal = 0;
        int[] ioOps = {0x00, 0x01, 0x02, 0x05, 0x08, 0x09, 0x04, 0x7f, 0xff};
        // not the queue commands (their own test covers them; random ones would delete the queues this
        // loop uses), nor AER (it completes only on an event) or Doorbell Buffer Config (polled doorbells)
        int[] adminOps = {0x02, 0x06, 0x08, 0x09, 0x0a, 0x18, 0x80, 0x10, 0x11, 0x7f, 0xc0, 0xff};
        for (int n = 0; n < 3000; n++) {
            scribble(rnd);
            int qid = rnd.nextInt(4) == 0 ? 0 : 1;
            int[] dw = new int[16];
            for (int i = 1; i < 16; i++) {
                dw[i] = rnd.nextInt(3) == 0 ? rnd.nextInt() : rnd.nextInt(8);
            }
            int op = qid == 0 ? adminOps[rnd.nextInt(adminOps.length)] : ioOps[rnd.nextInt(ioOps.length)];
            dw[0] = op | (rnd.nextInt(4) == 0 ? rnd.nextInt(4) << 14 : 0);
            dw[1] = switch (rnd.nextInt(6)) {
                case 0 -> rnd.nextInt();
                case 1 -> -1;
                case 2 -> 0;
                default -> 1;
            };
            long p1 = pointer(rnd);
            long p2 = pointer(rnd);
            dw[6] = (int) p1;
            dw[7] = (int) (p1 >>> 32);
            dw[8] = (int) p2;
            dw[9] = (int) (p2 >>> 32);
            if (qid == 1 && rnd.nextBoolean()) {
                dw[12] = rnd.nextInt(300) | (rnd.nextInt(8) == 0 ? rnd.nextInt() & 0xffff0000 : 0); // NLB around MDTS
                dw[11] = rnd.nextInt(10) == 0 ? rnd.nextInt() : 0;                                     // SLBA high
            }
            NvmeGuest.Cqe c = g.command(qid, dw);
            if (c == null) {
                assertEquals(CSTS_CFS, g.csts() & CSTS_CFS, "no completion and not fatal, command " + n + " seed " + seed);
                fatal++;
                g.start(QSIZE);
                continue;
            }
            assertNotEquals(INTERNAL_ERROR, c.code(), "Internal Error for command " + n + " (opcode 0x"
                    + Integer.toHexString(op) + " on queue " + qid + "), seed " + seed);
            statuses.merge(c.code(), 1, Integer::sum);
        }
        System.out.println("random SQEs, seed " + seed + ": status -> count " + statuses + ", controller fatal " + fatal);
        assertTrue(statuses.size() > 5, "the random commands reach many different checks: " + statuses);
        // a random Format NVM may have left 4 KiB blocks; the read below counts in 512-byte ones
        assertEquals(SUCCESS, g.admin(0x80, -1, 0, 0, 0, 0).code());
        stillServes();
    }

    /** Fills scratch pages with what a PRP list or SGL segment walk will find: pointers in, out and around the map. */
    private void scribble(Random rnd) {
        long at = SCRATCH + 4096L * rnd.nextInt(16);
        for (int i = 0; i < 512; i++) {
            g.putLong(at + 8L * i, rnd.nextInt(4) == 0 ? rnd.nextLong() : pointer(rnd));
        }
    }

    private static long pointer(Random rnd) {
        return switch (rnd.nextInt(8)) {
            case 0 -> 0;
            case 1 -> rnd.nextLong();
            case 2 -> OUTSIDE + 4096L * rnd.nextInt(4);
            case 3 -> RAM_IOVA + RAM_SIZE - 4096L * rnd.nextInt(3) - (rnd.nextBoolean() ? 8 : 0); // the map's edge
            case 4 -> SCRATCH + rnd.nextInt(16 * 4096);                                           // unaligned, in the lists
            default -> SCRATCH + 4096L * rnd.nextInt(16);
        };
    }
}
