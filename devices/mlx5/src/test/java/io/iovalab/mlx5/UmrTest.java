package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.mlx5.ifc.Mlx5Ifc.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.iovalab.mlx5.CommandInterfaceTest.msg;
import static io.iovalab.mlx5.IbObjectsTest.put64;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The UMR send queue as mlx5_ib drives it: WQEs in the QP buffer, the send counter in the
 * doorbell record, a store to the UAR; the device loads the XLT into the mkey, writes a CQE the
 * driver can match to its work request and raises the completion event only when the CQ is armed.
 */
class UmrTest {
    final IbObjectsTest ib = new IbObjectsTest();
    FakeDriver d;
    int pd;
    int cqn;
    long cqBuf;
    long cqDbr;
    int qpn;
    long sq;
    long qpDbr;
    int mkeyIndex;
    int posted;
    /** The data segment's lkey: 0, or the PA-mode key ib_alloc_pd makes when there is no reserved lkey. */
    int xltLkey;

    @BeforeEach
    void up() {
        ib.up();
        d = ib.d;
        pd = ib.alloc(MLX5_CMD_OP_ALLOC_PD, alloc_pd_out.pd);
        byte[] cq = ib.createCq(ib.eqn, 6); // 64 x 64 B: one page
        cqBuf = PageCommands.be64(cq, create_cq_in.pas.byteOffset());
        cqDbr = d.alloc(64, 64);
        cqc.dbr_addr.set(cq, create_cq_in.cq_context.byteOffset(), cqDbr);
        for (int i = 0; i < 64; i++) {
            d.put(cqBuf + i * 64 + 63, (byte) 0xf1); // the driver's invalid opcode, owner 1
        }
        cqn = (int) create_cq_out.cqn.get(ib.ok(cq, 0x10), 0);
        byte[] qp = ib.createQp(0, cqn, MLX5_QPC_ST_REG_UMR);
        qpDbr = d.alloc(64, 64);
        qpc.dbr_addr.set(qp, create_qp_in.qpc.byteOffset(), qpDbr);
        sq = PageCommands.be64(qp, create_qp_in.pas.byteOffset()) + 16 * 64; // after the 16 x 64 B RQ
        qpn = (int) create_qp_out.qpn.get(ib.ok(qp, 0x10), 0);
        for (int op : new int[] {MLX5_CMD_OP_RST2INIT_QP, MLX5_CMD_OP_INIT2RTR_QP, MLX5_CMD_OP_RTR2RTS_QP}) {
            ib.ok(ib.qpCmd(op, qpn), 0x10);
        }
        byte[] mk = msg(create_mkey_in.SIZE_BYTES, MLX5_CMD_OP_CREATE_MKEY, 0);
        int ctx = create_mkey_in.memory_key_mkey_entry.byteOffset();
        mkc.free.set(mk, ctx, 1);
        mkc.umr_en.set(mk, ctx, 1);
        mkc.access_mode_1_0.set(mk, ctx, MLX5_MKC_ACCESS_MODE_MTT);
        mkc.pd.set(mk, ctx, pd);
        mkc.mkey_7_0.set(mk, ctx, 0x42);
        mkeyIndex = (int) create_mkey_out.mkey_index.get(ib.ok(mk, 0x10), 0);
        d.uarWrite(ib.uar, EqTable.DOORBELL_ARM, ib.eqn << 24); // the completion EQ armed, consumer 0
    }

    @AfterEach
    void down() {
        ib.close();
    }

    void armCq(int ci) {
        // mlx5_cq_arm: one 64-bit store of be32(sn | cmd | ci), be32(cqn)
        long lo = Integer.reverseBytes(ci) & 0xffffffffL;
        long hi = Integer.reverseBytes(cqn) & 0xffffffffL;
        d.hca.uarWrite((long) ib.uar * 4096 + Hca.CQ_DOORBELL, 8, hi << 32 | lo);
    }

    /** Writes a WQE of {@code ds} 16-byte units at the SQ's current post index; returns its index. */
    int post(int opcode, int ds, byte[] body) {
        int idx = posted;
        byte[] w = new byte[((ds * 16 + 63) / 64) * 64];
        SendQueues.putBe32(w, 0, idx << 8 | opcode);
        SendQueues.putBe32(w, 4, qpn << 8 | ds);
        w[11] = (byte) SendQueues.MLX5_WQE_CTRL_CQ_UPDATE;
        SendQueues.putBe32(w, 12, mkeyIndex << 8 | 0x42);
        System.arraycopy(body, 0, w, 16, Math.min(body.length, w.length - 16));
        for (int i = 0; i < w.length; i++) {
            d.put(sq + ((idx * 64L + i) % (16 * 64)), w[i]);
        }
        posted += w.length / 64;
        return idx;
    }

    void ring() {
        d.putBe32(qpDbr + 4, posted);
        d.hca.uarWrite((long) ib.uar * 4096 + 0x800, 8, 0);
    }

    /** The op_own byte of CQE {@code n} once it is valid for its pass (owner = wrap parity), or a timeout. */
    int awaitCqe(int n) throws InterruptedException {
        long at = cqBuf + (n % 64) * 64L;
        for (int i = 0; i < 400; i++) {
            int opOwn = d.get(at + 63) & 0xff;
            if (opOwn >>> 4 != 0xf && (opOwn & 1) == ((n / 64) & 1)) {
                return opOwn;
            }
            Thread.sleep(5);
        }
        fail("no CQE " + n + "; " + d.hca.sendQueues.inspect());
        return -1;
    }

    byte[] umrBody(int flags, int octo, long octoOffset, long mask, boolean free, long xlt, int bytes) {
        byte[] b = new byte[128];
        b[0] = (byte) flags;
        b[4] = (byte) (octo >>> 8);
        b[5] = (byte) octo;
        b[6] = (byte) (octoOffset >>> 8);
        b[7] = (byte) octoOffset;
        put64(b, 8, mask);
        SendQueues.putBe32(b, 16, (int) (octoOffset >>> 16));
        int seg = 48;
        mkc.free.set(b, seg, free ? 1 : 0);
        mkc.pd.set(b, seg, pd);
        mkc.start_addr.set(b, seg, 0x7f00_0000_0000L);
        mkc.len.set(b, seg, 16 * 4096);
        mkc.log_page_size.set(b, seg, 12);
        mkc.mkey_7_0.set(b, seg, 0x42);
        SendQueues.putBe32(b, 112, bytes);
        SendQueues.putBe32(b, 116, xltLkey);
        put64(b, 120, xlt);
        return b;
    }

    static final long ENABLE_MASK = Umr.MLX5_MKEY_MASK_LEN | Umr.MLX5_MKEY_MASK_PAGE_SIZE
            | Umr.MLX5_MKEY_MASK_START_ADDR | Umr.MLX5_MKEY_MASK_PD | Umr.MLX5_MKEY_MASK_KEY
            | Umr.MLX5_MKEY_MASK_FREE | 1L << 17;

    @Test
    void an_enabling_umr_loads_the_mtt_completes_with_a_cqe_and_one_event_per_arm() throws Exception {
        // eight pages with a pattern, their IOVAs | read | write in the XLT at entries 4..11 (octoword offset 2)
        long[] pages = new long[8];
        long xlt = d.alloc(64, 64);
        for (int i = 0; i < 8; i++) {
            pages[i] = d.alloc(4096, 4096);
            d.putBe32(pages[i], 0x0da7a000 | i);
            d.putBe64(xlt + 8L * i, i == 5 ? 0 : pages[i] | 3);
        }
        // the XLT named by a PA-mode (bus address) key, as the UMR PD's local_dma_lkey is
        byte[] pa = msg(create_mkey_in.SIZE_BYTES, MLX5_CMD_OP_CREATE_MKEY, 0);
        int ctx = create_mkey_in.memory_key_mkey_entry.byteOffset();
        mkc.access_mode_1_0.set(pa, ctx, MLX5_MKC_ACCESS_MODE_PA);
        mkc.length64.set(pa, ctx, 1);
        mkc.pd.set(pa, ctx, pd);
        mkc.mkey_7_0.set(pa, ctx, 0x17);
        xltLkey = (int) create_mkey_out.mkey_index.get(ib.ok(pa, 0x10), 0) << 8 | 0x17;
        armCq(0);
        int idx = post(Umr.MLX5_OPCODE_UMR, 9,
                umrBody(Umr.MLX5_UMR_CHECK_NOT_FREE | Umr.MLX5_UMR_TRANSLATION_OFFSET_EN, 4, 2, ENABLE_MASK, false, xlt, 64));
        ring();
        int opOwn = awaitCqe(0);
        assertEquals(Cqe.MLX5_CQE_REQ, opOwn >>> 4, "a good completion: " + d.hca.sendQueues.inspect());
        assertEquals(idx, (d.get(cqBuf + 0x3c) & 0xff) << 8 | (d.get(cqBuf + 0x3d) & 0xff), "wqe_counter");
        assertEquals(Umr.MLX5_OPCODE_UMR << 24 | qpn, d.be32(cqBuf + 0x38), "opcode and QP");
        Resources.Mkey m = d.hca.firmware.resources.mkeys.get(mkeyIndex);
        assertFalse(m.free, "enabled");
        assertEquals(0x7f00_0000_0000L, m.start);
        assertEquals(7, m.mtt.size(), "seven present entries: " + m.mtt);
        DmaCommand dma = d.space.newCommand().start(0, DmaCommand.NO_COMMAND);
        for (int i = 0; i < 8; i++) {
            Long e = m.mtt.get(4L + i);
            if (i == 5) {
                assertNull(e);
                continue;
            }
            byte[] b = new byte[4];
            dma.read(e & ~0xfffL, b, 0, 4);
            assertEquals(0x0da7a000 | i, SendQueues.be32(b, 0), "entry " + (4 + i) + " reaches page " + i + " through the IOMMU");
        }
        dma.end();
        // the EQE names the CQ, the armed EQ fired once
        long eqBuf = d.hca.eqs.get(ib.eqn).pas[0];
        for (int i = 0; i < 200 && d.interrupts.isEmpty(); i++) {
            Thread.sleep(5);
        }
        assertEquals(MLX5_EVENT_TYPE_COMP, d.get(eqBuf + EventQueue.EQE_TYPE));
        assertEquals(cqn, d.be32(eqBuf + 0x38) & 0xffffff);
        assertEquals(1, d.interrupts.size());

        // not re-armed: the next completion writes a CQE but no event
        byte[] zap = new byte[64]; // entries 4..11 zero: the invalidation path
        long zx = d.alloc(64, 64);
        for (int i = 0; i < 64; i++) {
            d.put(zx + i, zap[i]);
        }
        post(Umr.MLX5_OPCODE_UMR, 9, umrBody(Umr.MLX5_UMR_CHECK_FREE | Umr.MLX5_UMR_TRANSLATION_OFFSET_EN,
                4, 2, 0, false, zx, 64));
        ring();
        assertEquals(Cqe.MLX5_CQE_REQ, awaitCqe(1) >>> 4);
        assertTrue(m.mtt.isEmpty(), "zapped: " + m.mtt);
        assertEquals(1L, d.hca.sendQueues.cqs.compEqes, "no event without an arm");
        // arming with an unpolled CQE behind the consumer index raises the event at once
        armCq(1);
        for (int i = 0; i < 200 && d.hca.sendQueues.cqs.compEqes < 2; i++) {
            Thread.sleep(5);
        }
        assertEquals(2L, d.hca.sendQueues.cqs.compEqes, "armed with CQE 1 unpolled");
    }

    @Test
    void a_wqe_the_device_cannot_execute_completes_in_error_and_later_ones_flush_until_reset() throws Exception {
        armCq(0);
        int bad = post(0x0a, 2, new byte[16]); // a SEND on the UMR QP
        int next = post(Umr.MLX5_OPCODE_UMR, 8, umrBody(Umr.MLX5_UMR_INLINE, 0, 0,
                Umr.MLX5_MKEY_MASK_FREE, true, 0, 0));
        ring();
        int opOwn = awaitCqe(0);
        assertEquals(Cqe.MLX5_CQE_REQ_ERR, opOwn >>> 4);
        assertEquals(Cqe.MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, d.get(cqBuf + 0x37) & 0xff);
        assertEquals(bad, (d.get(cqBuf + 0x3c) & 0xff) << 8 | (d.get(cqBuf + 0x3d) & 0xff));
        assertEquals(Cqe.MLX5_CQE_REQ_ERR, awaitCqe(1) >>> 4);
        assertEquals(Cqe.MLX5_CQE_SYNDROME_WR_FLUSH_ERR, d.get(cqBuf + 64 + 0x37) & 0xff, "flushed behind the error");
        assertEquals(next, (d.get(cqBuf + 64 + 0x3c) & 0xff) << 8 | (d.get(cqBuf + 64 + 0x3d) & 0xff));
        // recovery as mlx5r_umr_recover does it: RESET (counters back to 0), then RST → RTS
        ib.ok(ib.qpCmd(MLX5_CMD_OP_2RST_QP, qpn), 0x10);
        for (int op : new int[] {MLX5_CMD_OP_RST2INIT_QP, MLX5_CMD_OP_INIT2RTR_QP, MLX5_CMD_OP_RTR2RTS_QP}) {
            ib.ok(ib.qpCmd(op, qpn), 0x10);
        }
        posted = 0;
        // an XLT named by a key that is not a bus-address key is refused
        xltLkey = mkeyIndex << 8 | 0x42;
        post(Umr.MLX5_OPCODE_UMR, 9, umrBody(Umr.MLX5_UMR_CHECK_NOT_FREE, 4, 0, ENABLE_MASK, false, d.alloc(64, 64), 64));
        ring();
        assertEquals(Cqe.MLX5_CQE_REQ_ERR, awaitCqe(2) >>> 4);
        assertEquals(Cqe.MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, d.get(cqBuf + 128 + 0x37) & 0xff);
        assertTrue(d.hca.firmware.resources.mkeys.get(mkeyIndex).free, "the key stays as it was");
        ib.ok(ib.qpCmd(MLX5_CMD_OP_2RST_QP, qpn), 0x10);
        for (int op : new int[] {MLX5_CMD_OP_RST2INIT_QP, MLX5_CMD_OP_INIT2RTR_QP, MLX5_CMD_OP_RTR2RTS_QP}) {
            ib.ok(ib.qpCmd(op, qpn), 0x10);
        }
        posted = 0;
        // a UMR on a key that does not exist is an error too, not silence
        mkeyIndex += 100;
        post(Umr.MLX5_OPCODE_UMR, 8, umrBody(Umr.MLX5_UMR_INLINE, 0, 0, Umr.MLX5_MKEY_MASK_FREE, true, 0, 0));
        ring();
        assertEquals(Cqe.MLX5_CQE_REQ_ERR, awaitCqe(3) >>> 4);
        assertEquals(Cqe.MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, d.get(cqBuf + 192 + 0x37) & 0xff);
        assertEquals(4L, d.hca.sendQueues.cqs.cqes);
    }

    @Test
    void pg_and_the_odp_page_are_advertised_and_umr_may_change_the_entity_size() {
        byte[] q = msg(query_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_CAP, MLX5_CAP_GENERAL << 1 | 1);
        byte[] g = ib.ok(q, query_hca_cap_out.SIZE_BYTES);
        int base = query_hca_cap_out.capability.byteOffset();
        assertEquals(1, cmd_hca_cap.pg.get(g, base));
        assertEquals(0, cmd_hca_cap.umr_modify_entity_size_disabled.get(g, base));
        assertEquals(1, cmd_hca_cap.umr_extended_translation_offset.get(g, base));
        byte[] o = ib.ok(msg(query_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_CAP, MLX5_CAP_ODP << 1 | 1),
                query_hca_cap_out.SIZE_BYTES);
        int rc = base + Caps.RC_ODP_CAPS;
        for (io.iovalab.mlx5.ifc.Field f : new io.iovalab.mlx5.ifc.Field[] {odp_per_transport_service_cap.send,
                odp_per_transport_service_cap.receive, odp_per_transport_service_cap.write, odp_per_transport_service_cap.read}) {
            assertEquals(1, f.get(o, rc), f.toString());
        }
        assertEquals(0, odp_cap.mem_page_fault.get(o, base), "the transport scheme");
        // SET_HCA_CAP(ODP) takes max bits and refuses others
        byte[] s = msg(set_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_SET_HCA_CAP, MLX5_CAP_ODP << 1);
        int sb = set_hca_cap_in.capability.byteOffset();
        odp_per_transport_service_cap.send.set(s, sb + Caps.RC_ODP_CAPS, 1);
        ib.ok(s, 0x10);
        odp_cap.mem_page_fault.set(s, sb, 1);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, ib.status(s, 0x10));
    }
}
