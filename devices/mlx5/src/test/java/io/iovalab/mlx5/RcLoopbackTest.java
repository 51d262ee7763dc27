package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.iovalab.mlx5.CommandInterfaceTest.msg;
import static io.iovalab.mlx5.IbObjectsTest.put64;
import static io.iovalab.mlx5.SendWqe.*;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * RC traffic between QPs of one device, driven as a verbs provider drives it: WQEs in the QP
 * buffer, receive WQEs posted by the doorbell record alone, send doorbells through the UAR,
 * CQEs polled by their owner bit. Data lives in fake guest memory behind the IOMMU model and is
 * reached only through memory keys.
 */
class RcLoopbackTest {
    final IbObjectsTest ib = new IbObjectsTest();
    FakeDriver d;
    int pd;
    static final int LID = Mlx5Config.defaults().lid();

    /** A QP as a provider keeps it: its numbers, buffer, doorbell record, CQ and post counters. */
    final class Qp {
        int qpn;
        int cqn;
        long cqBuf;
        long cqDbr;
        long buf;
        long dbr;
        int sqPosted;
        int rqPosted;
        int cqPolled;
        final int userIndex;

        Qp(int userIndex, boolean remoteAccess) {
            this.userIndex = userIndex;
            byte[] cq = ib.createCq(ib.eqn, 6);
            cqBuf = PageCommands.be64(cq, create_cq_in.pas.byteOffset());
            cqDbr = d.alloc(64, 64);
            cqc.dbr_addr.set(cq, create_cq_in.cq_context.byteOffset(), cqDbr);
            for (int i = 0; i < 64; i++) {
                d.put(cqBuf + i * 64 + 63, (byte) 0xf1); // MLX5_CQE_INVALID, owner 1: nothing there yet
            }
            cqn = (int) create_cq_out.cqn.get(ib.ok(cq, 0x10), 0);
            byte[] q = ib.createQp(pd, cqn, MLX5_QPC_ST_RC);
            int ctx = create_qp_in.qpc.byteOffset();
            dbr = d.alloc(64, 64);
            qpc.dbr_addr.set(q, ctx, dbr);
            qpc.user_index.set(q, ctx, userIndex);
            buf = PageCommands.be64(q, create_qp_in.pas.byteOffset()); // RQ: 16 x 64 B, then SQ: 16 x 64 B
            qpn = (int) create_qp_out.qpn.get(ib.ok(q, 0x10), 0);
            this.remoteAccess = remoteAccess;
        }

        final boolean remoteAccess;

        /** RST → INIT → RTR (to {@code remote} at {@code rlid}) → RTS, as ibv_modify_qp does it. */
        void connect(Qp remote, int rlid) {
            byte[] init = ib.qpCmd(MLX5_CMD_OP_RST2INIT_QP, qpn);
            int ctx = rst2init_qp_in.qpc.byteOffset();
            qpc.rre.set(init, ctx, remoteAccess ? 1 : 0);
            qpc.rwe.set(init, ctx, remoteAccess ? 1 : 0);
            ib.ok(init, 0x10);
            byte[] rtr = ib.qpCmd(MLX5_CMD_OP_INIT2RTR_QP, qpn);
            qpc.remote_qpn.set(rtr, ctx, remote.qpn);
            ads.rlid.set(rtr, ctx + QpCommands.PRIMARY_PATH, rlid);
            qpc.next_rcv_psn.set(rtr, ctx, 0x123);
            qpc.mtu.set(rtr, ctx, 5);
            ib.ok(rtr, 0x10);
            byte[] rts = ib.qpCmd(MLX5_CMD_OP_RTR2RTS_QP, qpn);
            qpc.next_send_psn.set(rts, ctx, 0x456);
            ib.ok(rts, 0x10);
        }

        /** Posts a receive of one scatter entry (the rest of the 64-byte stride ends with MLX5_INVALID_LKEY). */
        int postRecv(int lkey, long addr, int length) {
            int idx = rqPosted;
            long w = buf + (idx % 16) * 64L;
            d.putBe32(w, length);
            d.putBe32(w + 4, lkey);
            d.putBe64(w + 8, addr);
            d.putBe32(w + 16, 0);
            d.putBe32(w + 20, ReceiveQueue.MLX5_INVALID_LKEY);
            rqPosted++;
            d.putBe32(dbr, rqPosted & 0xffff); // no doorbell: the record alone
            return idx;
        }

        /** Writes a send WQE: ctrl (signaled, imm), an optional raddr segment, then {@code segs} (16-byte units). */
        int post(int opcode, int imm, long raddr, int rkey, byte[] segs) {
            int idx = sqPosted;
            boolean rdma = SendWqe.hasRaddr(opcode);
            int ds = 1 + (rdma ? 1 : 0) + segs.length / 16;
            byte[] w = new byte[((ds * 16 + 63) / 64) * 64];
            Cqe.putBe32(w, 0, idx << 8 | opcode);
            Cqe.putBe32(w, 4, qpn << 8 | ds);
            w[11] = (byte) MLX5_WQE_CTRL_CQ_UPDATE;
            Cqe.putBe32(w, 12, imm);
            int at = 16;
            if (rdma) {
                put64(w, 16, raddr);
                Cqe.putBe32(w, 24, rkey);
                at = 32;
            }
            System.arraycopy(segs, 0, w, at, segs.length);
            for (int i = 0; i < w.length; i++) {
                d.put(buf + 1024 + ((idx * 64L + i) % 1024), w[i]);
            }
            sqPosted += w.length / 64;
            return idx;
        }

        void ring() {
            d.putBe32(dbr + 4, sqPosted & 0xffff);
            d.hca.uarWrite((long) ib.uar * 4096 + 0x800, 8, 0);
        }

        /** mlx5_cq_arm: one 64-bit store of be32(sn | cmd | ci), be32(cqn), to the UAR's CQ doorbell. */
        void armCq() {
            long lo = Integer.reverseBytes(cqPolled & 0xffffff) & 0xffffffffL;
            long hi = Integer.reverseBytes(cqn) & 0xffffffffL;
            d.hca.uarWrite((long) ib.uar * 4096 + Hca.CQ_DOORBELL, 8, hi << 32 | lo);
        }

        /** Polls the next CQE as a provider does (owner bit = pass parity), consumes it and updates the consumer index. */
        byte[] poll() throws InterruptedException {
            long at = cqBuf + (cqPolled % 64) * 64L;
            long busyUntil = System.nanoTime() + 1_000_000; // a busy poll first, as a verbs program does; then 2 s more
            for (int i = 0; i < 400; ) {
                if (System.nanoTime() < busyUntil) {
                    Thread.onSpinWait();
                } else {
                    Thread.sleep(5);
                    i++;
                }
                int opOwn = d.get(at + 63) & 0xff;
                if (opOwn >>> 4 != 0xf && (opOwn & 1) == ((cqPolled / 64) & 1)) {
                    byte[] cqe = new byte[64];
                    for (int k = 0; k < 64; k++) {
                        cqe[k] = d.get(at + k);
                    }
                    cqPolled++;
                    d.putBe32(cqDbr, cqPolled & 0xffffff);
                    return cqe;
                }
            }
            fail("no CQE " + cqPolled + " on CQ " + cqn + "; " + d.hca.sendQueues.inspect());
            return null;
        }

        boolean cqEmpty() {
            int opOwn = d.get(cqBuf + (cqPolled % 64) * 64L + 63) & 0xff;
            return opOwn >>> 4 == 0xf || (opOwn & 1) != ((cqPolled / 64) & 1);
        }

        int state() {
            byte[] q = msg(query_qp_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_QP, 0);
            query_qp_in.qpn.set(q, 0, qpn);
            return (int) qpc.state.get(ib.ok(q, query_qp_out.SIZE_BYTES), query_qp_out.qpc.byteOffset());
        }
    }

    static int opcode(byte[] cqe) {
        return (cqe[63] & 0xff) >>> 4;
    }

    static int syndrome(byte[] cqe) {
        return cqe[Cqe.SYNDROME] & 0xff;
    }

    static int wqeCounter(byte[] cqe) {
        return (cqe[Cqe.WQE_COUNTER] & 0xff) << 8 | (cqe[Cqe.WQE_COUNTER + 1] & 0xff);
    }

    static byte[] sge(int lkey, long addr, int length) {
        byte[] b = new byte[16];
        Cqe.putBe32(b, 0, length);
        Cqe.putBe32(b, 4, lkey);
        put64(b, 8, addr);
        return b;
    }

    /** A pinned MR as mlx5_ib's reg_create makes it: CREATE_MKEY with the pages' bus addresses as MTT entries. */
    record Mr(int key, long va, long[] pages) {
    }

    static final long VA = 0x7f12_3400_0000L;
    int nextVa;

    Mr mr(int pages, boolean remote) {
        long va = VA + (long) (nextVa++) * 0x100_0000L;
        long[] pa = new long[pages];
        byte[] in = msg(create_mkey_in.SIZE_BYTES + 8 * ((pages + 1) & ~1), MLX5_CMD_OP_CREATE_MKEY, 0);
        int ctx = create_mkey_in.memory_key_mkey_entry.byteOffset();
        mkc.access_mode_1_0.set(in, ctx, MLX5_MKC_ACCESS_MODE_MTT);
        mkc.pd.set(in, ctx, pd);
        mkc.lw.set(in, ctx, 1);
        mkc.lr.set(in, ctx, 1);
        mkc.rr.set(in, ctx, remote ? 1 : 0);
        mkc.rw.set(in, ctx, remote ? 1 : 0);
        mkc.mkey_7_0.set(in, ctx, 0x5a);
        mkc.start_addr.set(in, ctx, va);
        mkc.len.set(in, ctx, pages * 4096L);
        mkc.log_page_size.set(in, ctx, 12);
        create_mkey_in.translations_octword_actual_size.set(in, 0, (pages + 1) / 2);
        for (int i = 0; i < pages; i++) {
            pa[i] = d.alloc(4096, 4096);
            put64(in, create_mkey_in.klm_pas_mtt.byteOffset() + 8 * i, pa[i]);
        }
        int index = (int) create_mkey_out.mkey_index.get(ib.ok(in, 0x10), 0);
        return new Mr(index << 8 | 0x5a, va, pa);
    }

    void fill(Mr mr, int offset, byte[] data) {
        for (int i = 0; i < data.length; i++) {
            long o = offset + i;
            d.put(mr.pages()[(int) (o / 4096)] + o % 4096, data[i]);
        }
    }

    byte[] read(Mr mr, int offset, int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            long o = offset + i;
            b[i] = d.get(mr.pages()[(int) (o / 4096)] + o % 4096);
        }
        return b;
    }

    static byte[] pattern(int n, int seed) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 31 + seed);
        }
        return b;
    }

    Qp a;
    Qp b;

    @BeforeEach
    void up() {
        ib.up();
        d = ib.d;
        pd = ib.alloc(MLX5_CMD_OP_ALLOC_PD, alloc_pd_out.pd);
        a = new Qp(7, true);
        b = new Qp(9, true);
        a.connect(b, LID);
        b.connect(a, LID);
    }

    @AfterEach
    void down() {
        ib.close();
    }

    @Test
    void send_with_immediate_lands_in_the_posted_receive_and_both_sides_complete() throws Exception {
        Mr src = mr(3, false);
        Mr dst = mr(3, false);
        byte[] msg = pattern(6000, 3); // crosses pages on both sides
        fill(src, 100, msg);
        int ridx = b.postRecv(dst.key(), dst.va() + 50, 8192);
        int sidx = a.post(MLX5_OPCODE_SEND_IMM, 0x11223344, 0, 0, sge(src.key(), src.va() + 100, msg.length));
        a.ring();
        byte[] req = a.poll();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(req), "requester completion: " + d.hca.sendQueues.inspect());
        assertEquals(sidx, wqeCounter(req));
        assertEquals(MLX5_OPCODE_SEND_IMM << 24 | a.qpn, SendWqe.be32(req, Cqe.SOP_DROP_QPN));
        assertEquals(7, SendWqe.be32(req, Cqe.SRQN_UIDX), "CQE version 1: the user index names the QP");
        byte[] resp = b.poll();
        assertEquals(Cqe.MLX5_CQE_RESP_SEND_IMM, opcode(resp));
        assertEquals(ridx, wqeCounter(resp));
        assertEquals(msg.length, SendWqe.be32(resp, Cqe.BYTE_CNT));
        assertEquals(0x11223344, SendWqe.be32(resp, Cqe.IMMEDIATE), "immediate data as posted");
        assertEquals(a.qpn, SendWqe.be32(resp, Cqe.FLAGS_RQPN) & 0xffffff, "source QP");
        assertEquals(LID, (resp[Cqe.SLID] & 0xff) << 8 | (resp[Cqe.SLID + 1] & 0xff), "source LID");
        assertEquals(9, SendWqe.be32(resp, Cqe.SRQN_UIDX));
        assertArrayEquals(msg, read(dst, 50, msg.length), "the message, byte for byte");
        assertEquals(0, read(dst, 50 + msg.length, 1)[0], "nothing beyond it");
    }

    @Test
    void rdma_write_and_read_move_bytes_through_the_rkey_and_inline_data_needs_no_key() throws Exception {
        Mr local = mr(2, false);
        Mr remote = mr(2, true);
        byte[] out = pattern(5000, 1);
        fill(local, 0, out);
        a.post(MLX5_OPCODE_RDMA_WRITE, 0, remote.va() + 10, remote.key(), sge(local.key(), local.va(), out.length));
        a.ring();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(a.poll()), () -> "" + d.hca.sendQueues.inspect());
        assertArrayEquals(out, read(remote, 10, out.length));
        assertTrue(b.cqEmpty(), "a write without immediate consumes no receive and completes nothing at the responder");

        byte[] back = pattern(3000, 9);
        fill(remote, 4096 + 100, back);
        a.post(MLX5_OPCODE_RDMA_READ, 0, remote.va() + 4096 + 100, remote.key(), sge(local.key(), local.va() + 5000, back.length));
        a.ring();
        byte[] rd = a.poll();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(rd));
        assertEquals(back.length, SendWqe.be32(rd, Cqe.BYTE_CNT), "bytes read");
        assertArrayEquals(back, read(local, 5000, back.length));

        // inline: "hello, rdma" carried in the WQE (byte_count | MLX5_INLINE_SEG), padded to 16
        byte[] text = "hello, rdma".getBytes();
        byte[] inl = new byte[16];
        Cqe.putBe32(inl, 0, MLX5_INLINE_SEG | text.length);
        System.arraycopy(text, 0, inl, 4, text.length);
        b.postRecv(remote.key(), remote.va(), 64);
        a.post(MLX5_OPCODE_RDMA_WRITE_IMM, 0x0a0b0c0d, remote.va() + 7000, remote.key(), inl);
        a.ring();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(a.poll()));
        byte[] imm = b.poll();
        assertEquals(Cqe.MLX5_CQE_RESP_WR_IMM, opcode(imm));
        assertEquals(0x0a0b0c0d, SendWqe.be32(imm, Cqe.IMMEDIATE));
        assertArrayEquals(text, read(remote, 7000, text.length));
    }

    @Test
    void a_send_before_its_receive_waits_and_completes_once_the_receive_is_posted() throws Exception {
        Mr src = mr(1, false);
        Mr dst = mr(1, false);
        fill(src, 0, pattern(64, 5));
        a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(src.key(), src.va(), 64));
        a.ring();
        Thread.sleep(50);
        assertTrue(a.cqEmpty(), "no receive posted: the send waits (RNR), it neither completes nor fails");
        b.postRecv(dst.key(), dst.va(), 64); // the doorbell record only: the device must look again by itself
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(a.poll()));
        assertEquals(Cqe.MLX5_CQE_RESP_SEND, opcode(b.poll()));
        assertArrayEquals(pattern(64, 5), read(dst, 0, 64));
    }

    @Test
    void a_bad_rkey_fails_the_requester_with_remote_access_error_flushes_both_qps_and_spares_the_others() throws Exception {
        Mr local = mr(1, false);
        Mr remote = mr(1, true);
        Qp c = new Qp(11, true);
        Qp e = new Qp(12, true);
        c.connect(e, LID);
        e.connect(c, LID);
        int recv = b.postRecv(remote.key(), remote.va(), 64);
        int bad = a.post(MLX5_OPCODE_RDMA_WRITE, 0, remote.va(), remote.key() ^ 0x100, sge(local.key(), local.va(), 16));
        int after = a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(local.key(), local.va(), 16));
        a.ring();
        byte[] err = a.poll();
        assertEquals(Cqe.MLX5_CQE_REQ_ERR, opcode(err));
        assertEquals(Cqe.MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR, syndrome(err));
        assertEquals(bad, wqeCounter(err));
        byte[] flushed = a.poll();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_WR_FLUSH_ERR, syndrome(flushed), "the WQE behind the error is flushed");
        assertEquals(after, wqeCounter(flushed));
        assertEquals(MLX5_QPC_STATE_ERR, a.state());
        byte[] rflush = b.poll();
        assertEquals(Cqe.MLX5_CQE_RESP_ERR, opcode(rflush), "the responder's receive is flushed");
        assertEquals(Cqe.MLX5_CQE_SYNDROME_WR_FLUSH_ERR, syndrome(rflush));
        assertEquals(recv, wqeCounter(rflush));
        assertEquals(MLX5_QPC_STATE_ERR, b.state(), "the responder of a remote access violation goes to error too");

        // out of the key's range: the same error, on another pair, which did not notice the first
        Mr remote2 = mr(1, true);
        c.post(MLX5_OPCODE_RDMA_READ, 0, remote2.va() + 4000, remote2.key(), sge(local.key(), local.va(), 200));
        c.ring();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR, syndrome(c.poll()), "4000 + 200 > 4096");
        assertEquals(MLX5_QPC_STATE_ERR, c.state());

        // a third pair keeps working
        Qp f = new Qp(13, true);
        Qp h = new Qp(14, true);
        f.connect(h, LID);
        h.connect(f, LID);
        Mr dst = mr(1, false);
        fill(local, 0, pattern(32, 8));
        h.postRecv(dst.key(), dst.va(), 32);
        f.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(local.key(), local.va(), 32));
        f.ring();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(f.poll()));
        assertEquals(Cqe.MLX5_CQE_RESP_SEND, opcode(h.poll()));
        assertArrayEquals(pattern(32, 8), read(dst, 0, 32));

        // and the failed QP works again after RESET → RTS, its counters restarting at 0
        ib.ok(ib.qpCmd(MLX5_CMD_OP_2RST_QP, a.qpn), 0x10);
        ib.ok(ib.qpCmd(MLX5_CMD_OP_2RST_QP, b.qpn), 0x10);
        a.sqPosted = 0;
        a.rqPosted = 0;
        b.sqPosted = 0;
        b.rqPosted = 0;
        d.putBe64(a.dbr, 0);
        d.putBe64(b.dbr, 0);
        a.connect(b, LID);
        b.connect(a, LID);
        b.postRecv(dst.key(), dst.va(), 32);
        a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(local.key(), local.va(), 32));
        a.ring();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(a.poll()));
        assertEquals(Cqe.MLX5_CQE_RESP_SEND, opcode(b.poll()));
    }

    @Test
    void a_receive_too_small_fails_both_sides_and_a_bad_lkey_only_the_requester() throws Exception {
        Mr src = mr(1, false);
        Mr dst = mr(1, false);
        b.postRecv(dst.key(), dst.va(), 100);
        a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(src.key(), src.va(), 200));
        a.ring();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_REMOTE_INVAL_REQ_ERR, syndrome(a.poll()));
        byte[] r = b.poll();
        assertEquals(Cqe.MLX5_CQE_RESP_ERR, opcode(r));
        assertEquals(Cqe.MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, syndrome(r));
        assertEquals(MLX5_QPC_STATE_ERR, b.state());

        Qp c = new Qp(11, true);
        Qp e = new Qp(12, true);
        c.connect(e, LID);
        e.connect(c, LID);
        int recv = e.postRecv(dst.key(), dst.va(), 100);
        c.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(src.key() + 1, src.va(), 10)); // wrong variant
        c.ring();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, syndrome(c.poll()));
        assertEquals(MLX5_QPC_STATE_ERR, c.state());
        assertEquals(MLX5_QPC_STATE_RTS, e.state(), "a local error stays local");
        assertTrue(e.cqEmpty(), "the responder's receive " + recv + " is still posted");
    }

    @Test
    void a_qp_that_does_not_grant_remote_write_refuses_it_even_with_a_valid_rkey() throws Exception {
        Qp c = new Qp(11, true);
        Qp e = new Qp(12, false); // rwe/rre 0, as rc_pingpong's QPs
        c.connect(e, LID);
        e.connect(c, LID);
        Mr local = mr(1, false);
        Mr remote = mr(1, true);
        c.post(MLX5_OPCODE_RDMA_WRITE, 0, remote.va(), remote.key(), sge(local.key(), local.va(), 8));
        c.ring();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR, syndrome(c.poll()));
    }

    @Test
    void a_send_doorbell_that_lands_while_the_worker_serves_a_cq_arm_is_not_lost() throws Exception {
        // ibv_rc_pingpong -e re-arms its CQ, then posts its next send: the two stores arrive microseconds apart,
        // and a doorbell lost between them left the send unexecuted for ever (both programs waiting)
        Mr src = mr(1, false);
        Mr dst = mr(1, false);
        fill(src, 0, pattern(64, 2));
        java.util.SplittableRandom random = new java.util.SplittableRandom(7);
        for (int i = 0; i < 3000; i++) {
            b.postRecv(dst.key(), dst.va(), 64);
            a.armCq();
            long until = System.nanoTime() + random.nextInt(40_000); // land anywhere in the worker's wake-up and pass
            while (System.nanoTime() < until) {
                Thread.onSpinWait();
            }
            a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(src.key(), src.va(), 64));
            a.ring();
            assertEquals(Cqe.MLX5_CQE_REQ, opcode(a.poll()), "send " + i);
            assertEquals(Cqe.MLX5_CQE_RESP_SEND, opcode(b.poll()), "receive " + i);
        }
    }

    @Test
    void a_destination_that_is_not_there_fails_with_retry_exceeded() throws Exception {
        Qp c = new Qp(11, true);
        c.connect(a, LID + 1); // another LID: no such port
        Mr local = mr(1, false);
        c.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(local.key(), local.va(), 8));
        c.ring();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_TRANSPORT_RETRY_EXC_ERR, syndrome(c.poll()));
        assertEquals(MLX5_QPC_STATE_RTS, a.state());
    }

    @Test
    void query_qp_reports_the_connection_the_modify_commands_set() {
        byte[] q = msg(query_qp_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_QP, 0);
        query_qp_in.qpn.set(q, 0, a.qpn);
        byte[] out = ib.ok(q, query_qp_out.SIZE_BYTES);
        int ctx = query_qp_out.qpc.byteOffset();
        assertEquals(MLX5_QPC_STATE_RTS, qpc.state.get(out, ctx));
        assertEquals(b.qpn, qpc.remote_qpn.get(out, ctx));
        assertEquals(LID, ads.rlid.get(out, ctx + QpCommands.PRIMARY_PATH));
        assertEquals(0x123, qpc.next_rcv_psn.get(out, ctx));
        assertEquals(0x456, qpc.next_send_psn.get(out, ctx));
        assertEquals(1, qpc.rwe.get(out, ctx));
        assertEquals(7, qpc.user_index.get(out, ctx));
        // 2ERR from RTS, and the commands refuse RTR2RTS from ERR
        ib.ok(ib.qpCmd(MLX5_CMD_OP_2ERR_QP, a.qpn), 0x10);
        assertEquals(MLX5_CMD_STAT_BAD_QP_STATE_ERR, ib.status(ib.qpCmd(MLX5_CMD_OP_RTR2RTS_QP, a.qpn), 0x10));
        assertEquals(MLX5_QPC_STATE_ERR, qpc.state.get(ib.ok(q, query_qp_out.SIZE_BYTES), ctx));
    }

    @Test
    void moving_a_qp_to_error_by_command_flushes_its_posted_receives() throws Exception {
        Mr dst = mr(1, false);
        int r0 = b.postRecv(dst.key(), dst.va(), 64);
        int r1 = b.postRecv(dst.key(), dst.va(), 64);
        ib.ok(ib.qpCmd(MLX5_CMD_OP_2ERR_QP, b.qpn), 0x10);
        byte[] f0 = b.poll();
        byte[] f1 = b.poll();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_WR_FLUSH_ERR, syndrome(f0));
        assertEquals(r0, wqeCounter(f0));
        assertEquals(r1, wqeCounter(f1));
    }

    /** An EQ for page-fault events only, as mlx5_ib's odp_pf_eq; returns its buffer. */
    long pageFaultEq() {
        byte[] eq = msg(create_eq_in.SIZE_BYTES + 8, MLX5_CMD_OP_CREATE_EQ, 0);
        int ctx = create_eq_in.eq_context_entry.byteOffset();
        eqc.log_eq_size.set(eq, ctx, 6);
        eqc.uar_page.set(eq, ctx, ib.uar);
        put64(eq, create_eq_in.event_bitmask.byteOffset(), 1L << MLX5_EVENT_TYPE_PAGE_FAULT);
        long buf = d.alloc(4096, 4096);
        put64(eq, create_eq_in.pas.byteOffset(), buf);
        ib.ok(eq, 0x10);
        return buf;
    }

    /** An ODP MR as mlx5_ib makes it before any fault: an MTT key over {@code pages} pages, none present. */
    Mr odpMr(int pages) {
        long va = VA + (long) (nextVa++) * 0x100_0000L;
        byte[] in = msg(create_mkey_in.SIZE_BYTES, MLX5_CMD_OP_CREATE_MKEY, 0);
        int ctx = create_mkey_in.memory_key_mkey_entry.byteOffset();
        mkc.access_mode_1_0.set(in, ctx, MLX5_MKC_ACCESS_MODE_MTT);
        mkc.pd.set(in, ctx, pd);
        mkc.lw.set(in, ctx, 1);
        mkc.mkey_7_0.set(in, ctx, 0x33);
        mkc.start_addr.set(in, ctx, va);
        mkc.len.set(in, ctx, pages * 4096L);
        mkc.log_page_size.set(in, ctx, 12);
        int index = (int) create_mkey_out.mkey_index.get(ib.ok(in, 0x10), 0);
        long[] pa = new long[pages];
        for (int i = 0; i < pages; i++) {
            pa[i] = d.alloc(4096, 4096);
        }
        return new Mr(index << 8 | 0x33, va, pa);
    }

    byte[] awaitEqe(long eqBuf, int n) throws InterruptedException {
        long at = eqBuf + n * 64L;
        for (int i = 0; i < 400 && d.get(at + EventQueue.EQE_TYPE) != MLX5_EVENT_TYPE_PAGE_FAULT; i++) {
            Thread.sleep(5); // the ring starts zeroed, and no other event type goes to this EQ
        }
        byte[] e = new byte[64];
        for (int k = 0; k < 64; k++) {
            e[k] = d.get(at + k);
        }
        return e;
    }

    void resume(int qpn, boolean error) {
        byte[] in = msg(PageFaultCommands.SIZE_BYTES, MLX5_CMD_OP_PAGE_FAULT_RESUME, 0);
        PageFaultCommands.wq_number.set(in, 0, qpn);
        PageFaultCommands.error.set(in, 0, error ? 1 : 0);
        ib.ok(in, 0x10);
    }

    @Test
    void a_non_present_odp_page_raises_a_page_fault_and_the_wqe_runs_after_page_fault_resume() throws Exception {
        long eq = pageFaultEq();
        Mr odp = odpMr(2);
        Mr dst = mr(1, false);
        byte[] msg = pattern(100, 4);
        fill(odp, 40, msg);
        b.postRecv(dst.key(), dst.va(), 4096);
        a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(odp.key(), odp.va() + 40, msg.length));
        a.ring();
        byte[] eqe = awaitEqe(eq, 0);
        assertEquals(MLX5_EVENT_TYPE_PAGE_FAULT, eqe[EventQueue.EQE_TYPE], "a PAGE_FAULT EQE: " + d.hca.sendQueues.inspect());
        assertEquals(PageFaults.MLX5_PFAULT_SUBTYPE_RDMA, eqe[EventQueue.EQE_SUB_TYPE]);
        int data = EventQueue.EQE_DATA;
        assertEquals(odp.key(), SendWqe.be32(eqe, data + 4), "r_key");
        assertEquals(odp.va() + 40, SendWqe.be64(eqe, data + 16), "rdma_va");
        assertEquals(msg.length, SendWqe.be32(eqe, data + 12), "rdma_op_len");
        assertEquals(a.qpn, SendWqe.be32(eqe, data + 24) & 0xffffff, "the token is the QP");
        Thread.sleep(30);
        assertTrue(a.cqEmpty() && b.cqEmpty(), "nothing completes while the fault is outstanding");
        synchronized (d.hca.firmware) { // what the driver's UMR would load (UmrTest covers that path)
            d.hca.firmware.resources.mkeys.get(odp.key() >>> 8).mtt.put(0L, odp.pages()[0] | MemoryKeys.MTT_READ | MemoryKeys.MTT_WRITE);
        }
        resume(a.qpn, false);
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(a.poll()));
        assertEquals(Cqe.MLX5_CQE_RESP_SEND, opcode(b.poll()));
        assertArrayEquals(msg, read(dst, 0, msg.length));

        // page 1 faults too; the driver cannot resolve it and resumes with the error bit
        b.postRecv(dst.key(), dst.va(), 4096);
        a.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(odp.key(), odp.va() + 4096, 8));
        a.ring();
        assertEquals(MLX5_EVENT_TYPE_PAGE_FAULT, awaitEqe(eq, 1)[EventQueue.EQE_TYPE]);
        resume(a.qpn, true);
        byte[] err = a.poll();
        assertEquals(Cqe.MLX5_CQE_REQ_ERR, opcode(err));
        assertEquals(Cqe.MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, syndrome(err));
        assertEquals(MLX5_QPC_STATE_ERR, a.state());
    }

    @Test
    void random_bytes_as_wqes_and_receives_fail_their_qp_and_nothing_else() throws Exception {
        java.util.Random rnd = new java.util.Random(9);
        Mr dst = mr(1, true);
        for (int round = 0; round < 20; round++) {
            Qp x = new Qp(20 + round, true);
            Qp y = new Qp(40 + round, true);
            x.connect(y, LID);
            y.connect(x, LID);
            for (long at = x.buf; at < x.buf + 4096; at++) { // the whole buffer: RQ and SQ
                d.put(at, (byte) rnd.nextInt());
            }
            y.rqPosted = rnd.nextInt(40);
            d.putBe32(y.dbr, y.rqPosted);
            x.sqPosted = rnd.nextInt(40);
            x.ring();
        }
        for (int i = 0; i < 400 && (Long) d.hca.sendQueues.inspect().get("wqeErrors") < 20; i++) {
            Thread.sleep(5);
        }
        assertTrue((Long) d.hca.sendQueues.inspect().get("wqeErrors") >= 20, "each garbage SQ failed: " + d.hca.sendQueues.inspect());
        // the device is still there, and a fresh pair moves data
        Mr src = mr(1, false);
        fill(src, 0, pattern(48, 2));
        Qp f = new Qp(90, true);
        Qp h = new Qp(91, true);
        f.connect(h, LID);
        h.connect(f, LID);
        h.postRecv(dst.key(), dst.va(), 64);
        f.post(MLX5_OPCODE_SEND, 0, 0, 0, sge(src.key(), src.va(), 48));
        f.ring();
        assertEquals(Cqe.MLX5_CQE_REQ, opcode(f.poll()), () -> "" + d.hca.sendQueues.inspect());
        assertEquals(Cqe.MLX5_CQE_RESP_SEND, opcode(h.poll()));
        assertArrayEquals(pattern(48, 2), read(dst, 0, 48));
        assertEquals(0L, d.hca.internalErrors, d.hca.lastInternalError);
        assertEquals(0L, d.hca.sendQueues.inspect().get("sqInternalErrors"), "every garbage case was a foreseen error: "
                + d.hca.sendQueues.inspect().get("lastWqeError"));
    }
}
