package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.iovalab.mlx5.CommandInterfaceTest.msg;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/** What mlx5_ib asks of the firmware: port data through vport queries and registers, and the verbs objects. */
class IbObjectsTest {
    final FakeDriver d = new FakeDriver();
    int uar;
    int eqn;

    @BeforeEach
    void up() {
        ok(msg(enable_hca_in.SIZE_BYTES, MLX5_CMD_OP_ENABLE_HCA, 0), 0x10);
        ok(msg(init_hca_in.SIZE_BYTES, MLX5_CMD_OP_INIT_HCA, 0), 0x10);
        uar = (int) alloc_uar_out.uar.get(ok(msg(alloc_uar_in.SIZE_BYTES, MLX5_CMD_OP_ALLOC_UAR, 0), 0x10), 0);
        byte[] eq = msg(create_eq_in.SIZE_BYTES + 8, MLX5_CMD_OP_CREATE_EQ, 0);
        int ctx = create_eq_in.eq_context_entry.byteOffset();
        eqc.log_eq_size.set(eq, ctx, 6);
        eqc.uar_page.set(eq, ctx, uar);
        eqc.intr.set(eq, ctx, 1);
        put64(eq, create_eq_in.pas.byteOffset(), d.alloc(4096, 4096));
        eqn = (int) create_eq_out.eq_number.get(ok(eq, 0x10), 0);
    }

    @AfterEach
    void close() {
        d.close();
    }

    static void put64(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    byte[] ok(byte[] in, int outlen) {
        FakeDriver.Result r = d.exec(in, outlen);
        assertEquals(0, r.delivery());
        assertEquals(0, r.status(), () -> "status " + r.status() + " log " + d.hca.firmware.log);
        return r.out();
    }

    int status(byte[] in, int outlen) {
        FakeDriver.Result r = d.exec(in, outlen);
        assertEquals(0, r.delivery());
        return r.status();
    }

    // ---------------------------------------------------------------- the port

    @Test
    void vport_context_gids_and_pkeys_describe_one_active_ib_port_with_the_configured_lid() {
        Mlx5Config cfg = Mlx5Config.defaults();
        byte[] v = ok(msg(query_hca_vport_context_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_VPORT_CONTEXT, 0),
                query_hca_vport_context_out.SIZE_BYTES);
        int b = query_hca_vport_context_out.hca_vport_context.byteOffset();
        assertEquals(4, hca_vport_context.vport_state.get(v, b), "IB_PORT_ACTIVE");
        assertEquals(5, hca_vport_context.port_physical_state.get(v, b), "LINK_UP");
        assertEquals(cfg.lid(), hca_vport_context.lid.get(v, b));
        assertTrue(cfg.lid() != 0, "verbs tools refuse to connect on LID 0");
        Mlx5Config down = new Mlx5Config(cfg.deviceId(), cfg.vectors(), cfg.fwMajor(), cfg.fwMinor(), cfg.fwSub(), cfg.bootPages(),
                cfg.initPages(), cfg.boardId(), cfg.bar0Size(), cfg.nodeGuid(), Mlx5Config.PORT_DOWN, 7);
        assertEquals(0, new Port(down).lid, "a port that is down has no LID, whatever is configured");
        assertEquals(1, hca_vport_context.has_smi.get(v, b));
        assertEquals(cfg.nodeGuid(), hca_vport_context.node_guid.get(v, b));
        assertEquals(cfg.nodeGuid() + 1, hca_vport_context.port_guid.get(v, b));

        byte[] gq = msg(query_hca_vport_gid_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_VPORT_GID, 0);
        query_hca_vport_gid_in.gid_index.set(gq, 0, 0xffff);
        byte[] gids = ok(gq, query_hca_vport_gid_out.SIZE_BYTES + 16 * 8);
        assertEquals(8, query_hca_vport_gid_out.gids_num.get(gids, 0));
        int g0 = query_hca_vport_gid_out.gid.byteOffset();
        assertEquals((byte) 0xfe, gids[g0]);
        assertEquals((byte) 0x80, gids[g0 + 1]);
        assertEquals(cfg.nodeGuid() + 1, PageCommands.be64(gids, g0 + 8), "link-local GID from the port GUID");
        query_hca_vport_gid_in.gid_index.set(gq, 0, 8);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(gq, query_hca_vport_gid_out.SIZE_BYTES + 16));

        byte[] pq = msg(query_hca_vport_pkey_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_VPORT_PKEY, 0);
        byte[] pk = ok(pq, query_hca_vport_pkey_out.SIZE_BYTES + 4);
        assertEquals(0xffff, pkey.pkey.get(pk, query_hca_vport_pkey_out.pkey.byteOffset()), "default P_Key at index 0");
        query_hca_vport_pkey_in.other_vport.set(pq, 0, 1);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(pq, query_hca_vport_pkey_out.SIZE_BYTES + 4), "not a vport manager");
    }

    byte[] readReg(int id, byte[] data, int size) {
        byte[] in = msg(access_register_in.SIZE_BYTES + size, MLX5_CMD_OP_ACCESS_REG, RegisterCommands.READ);
        access_register_in.register_id.set(in, 0, id);
        System.arraycopy(data, 0, in, 0x10, data.length);
        return in;
    }

    @Test
    void port_registers_report_4x_edr_4096_mtu_and_eight_vls_and_are_read_only() {
        byte[] ptys = new byte[ptys_reg.SIZE_BYTES];
        ptys_reg.local_port.set(ptys, 0, 1);
        ptys_reg.proto_mask.set(ptys, 0, MLX5_PTYS_IB);
        byte[] out = ok(readReg(MLX5_REG_PTYS, ptys, ptys.length), 0x10 + ptys_reg.SIZE_BYTES);
        assertEquals(MLX5_PTYS_WIDTH_4X, ptys_reg.ib_link_width_oper.get(out, 0x10));
        assertEquals(Port.PROTO_EDR, ptys_reg.ib_proto_oper.get(out, 0x10));

        byte[] pmtu = new byte[pmtu_reg.SIZE_BYTES];
        pmtu_reg.local_port.set(pmtu, 0, 1);
        out = ok(readReg(MLX5_REG_PMTU, pmtu, pmtu.length), 0x10 + pmtu_reg.SIZE_BYTES);
        assertEquals(4096, pmtu_reg.max_mtu.get(out, 0x10));
        assertEquals(4096, pmtu_reg.oper_mtu.get(out, 0x10));

        byte[] pvlc = new byte[pvlc_reg.SIZE_BYTES];
        pvlc_reg.local_port.set(pvlc, 0, 1);
        out = ok(readReg(MLX5_REG_PVLC, pvlc, pvlc.length), 0x10 + pvlc_reg.SIZE_BYTES);
        assertEquals(MLX5_VL_HW_0_7, pvlc_reg.vl_hw_cap.get(out, 0x10));

        out = ok(readReg(MLX5_REG_NODE_DESC, new byte[0], 64), 0x10 + 64);
        assertEquals(RegisterCommands.NODE_DESC, new String(out, 0x10, RegisterCommands.NODE_DESC.length(),
                java.nio.charset.StandardCharsets.US_ASCII));

        pmtu_reg.local_port.set(pmtu, 0, 2);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(readReg(MLX5_REG_PMTU, pmtu, pmtu.length), 0x20), "no port 2");
        byte[] w = readReg(MLX5_REG_PMTU, pmtu, pmtu.length);
        access_register_in.op_mod.set(w, 0, RegisterCommands.WRITE);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(w, 0x20), "PMTU is read-only here");
    }

    @Test
    void mad_ifc_answers_every_mad_with_unsupported_attribute_in_a_response() {
        byte[] in = msg(mad_ifc_in.SIZE_BYTES, MLX5_CMD_OP_MAD_IFC, 3);
        mad_ifc_in.port.set(in, 0, 1);
        int mad = mad_ifc_in.mad.byteOffset();
        in[mad] = 1;        // base version
        in[mad + 1] = 0x01; // LID-routed SMP
        in[mad + 3] = 0x01; // Get
        in[mad + 16] = (byte) 0xff; // vendor attribute (ExtendedPortInfo)
        in[mad + 17] = (byte) 0x91;
        byte[] out = ok(in, mad_ifc_out.SIZE_BYTES);
        int resp = mad_ifc_out.response_mad_packet.byteOffset();
        assertEquals((byte) 0x81, out[resp + 3], "GetResp");
        assertEquals(0x000c, (out[resp + 4] & 0xff) << 8 | (out[resp + 5] & 0xff));
        assertEquals((byte) 0x91, out[resp + 17], "the request's attribute is echoed");
    }

    // ---------------------------------------------------------------- verbs objects

    int alloc(int opcode, io.iovalab.mlx5.ifc.Field out) {
        return (int) out.get(ok(msg(0x10, opcode, 0), 0x10), 0);
    }

    byte[] createCq(int eq, int logSize) {
        byte[] in = msg(create_cq_in.SIZE_BYTES + 8, MLX5_CMD_OP_CREATE_CQ, 0);
        int ctx = create_cq_in.cq_context.byteOffset();
        cqc.log_cq_size.set(in, ctx, logSize);
        cqc.c_eqn_or_apu_element.set(in, ctx, eq);
        cqc.uar_page.set(in, ctx, uar);
        put64(in, create_cq_in.pas.byteOffset(), d.alloc(4096, 4096));
        return in;
    }

    byte[] createQp(int pd, int cqn, int st) {
        byte[] in = msg(create_qp_in.SIZE_BYTES + 8, MLX5_CMD_OP_CREATE_QP, 0);
        int ctx = create_qp_in.qpc.byteOffset();
        qpc.st.set(in, ctx, st);
        qpc.pd.set(in, ctx, pd);
        qpc.uar_page.set(in, ctx, uar);
        qpc.cqn_snd.set(in, ctx, cqn);
        qpc.cqn_rcv.set(in, ctx, cqn);
        qpc.log_rq_size.set(in, ctx, 4);   // 16 x 64 B
        qpc.log_rq_stride.set(in, ctx, 2);
        qpc.log_sq_size.set(in, ctx, 4);   // 16 x 64 B: one page in all
        put64(in, create_qp_in.pas.byteOffset(), d.alloc(4096, 4096));
        return in;
    }

    byte[] qpCmd(int opcode, int qpn) {
        byte[] in = msg(rst2init_qp_in.SIZE_BYTES, opcode, 0);
        rst2init_qp_in.qpn.set(in, 0, qpn);
        return in;
    }

    @Test
    void a_qp_walks_rst_init_rtr_rts_and_refuses_the_wrong_transition() {
        int pd = alloc(MLX5_CMD_OP_ALLOC_PD, alloc_pd_out.pd);
        int cqn = (int) create_cq_out.cqn.get(ok(createCq(eqn, 6), 0x10), 0);
        int qpn = (int) create_qp_out.qpn.get(ok(createQp(pd, cqn, MLX5_QPC_ST_RC), 0x10), 0);
        assertTrue(qpn >= 0x100);
        assertEquals(MLX5_CMD_STAT_BAD_QP_STATE_ERR, status(qpCmd(MLX5_CMD_OP_INIT2RTR_QP, qpn), 0x10), "RST → RTR");
        ok(qpCmd(MLX5_CMD_OP_RST2INIT_QP, qpn), 0x10);
        ok(qpCmd(MLX5_CMD_OP_INIT2RTR_QP, qpn), 0x10);
        ok(qpCmd(MLX5_CMD_OP_RTR2RTS_QP, qpn), 0x10);
        byte[] q = msg(query_qp_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_QP, 0);
        query_qp_in.qpn.set(q, 0, qpn);
        byte[] st = ok(q, query_qp_out.SIZE_BYTES);
        assertEquals(MLX5_QPC_STATE_RTS, qpc.state.get(st, query_qp_out.qpc.byteOffset()));
        byte[] dcq = msg(destroy_cq_in.SIZE_BYTES, MLX5_CMD_OP_DESTROY_CQ, 0);
        destroy_cq_in.cqn.set(dcq, 0, cqn);
        assertEquals(MLX5_CMD_STAT_BAD_RES_STATE_ERR, status(dcq, 0x10), "the QP still uses the CQ");
        ok(qpCmd(MLX5_CMD_OP_2RST_QP, qpn), 0x10);
        ok(qpCmd(MLX5_CMD_OP_DESTROY_QP, qpn), 0x10);
        ok(dcq, 0x10);
        assertEquals(MLX5_CMD_STAT_BAD_RES_ERR, status(qpCmd(MLX5_CMD_OP_DESTROY_QP, qpn), 0x10), "destroyed twice");
        byte[] dpd = msg(dealloc_pd_in.SIZE_BYTES, MLX5_CMD_OP_DEALLOC_PD, 0);
        dealloc_pd_in.pd.set(dpd, 0, pd);
        ok(dpd, 0x10);
        assertEquals(MLX5_CMD_STAT_BAD_RES_ERR, status(dpd, 0x10));
    }

    @Test
    void objects_that_name_missing_objects_or_lack_their_page_list_are_refused() {
        int pd = alloc(MLX5_CMD_OP_ALLOC_PD, alloc_pd_out.pd);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(createCq(eqn + 7, 6), 0x10), "no such EQ");
        byte[] big = createCq(eqn, 12); // 4096 x 64 B = 64 pages, one given
        assertEquals(MLX5_CMD_STAT_BAD_INP_LEN_ERR, status(big, 0x10));
        int cqn = (int) create_cq_out.cqn.get(ok(createCq(eqn, 6), 0x10), 0);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(createQp(pd + 5, cqn, MLX5_QPC_ST_RC), 0x10), "no such PD");
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(createQp(pd, cqn + 5, MLX5_QPC_ST_RC), 0x10), "no such CQ");
        ok(createQp(0, cqn, MLX5_QPC_ST_REG_UMR), 0x10); // the UMR QP carries no PD
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(createQp(0, cqn, MLX5_QPC_ST_RC), 0x10), "PD 0 only for UMR");
        assertTrue(d.hca.firmware.resources.qps.size() == 1);
    }

    @Test
    void mkeys_and_shared_receive_queues() {
        int pd = alloc(MLX5_CMD_OP_ALLOC_PD, alloc_pd_out.pd);
        byte[] pa = msg(create_mkey_in.SIZE_BYTES, MLX5_CMD_OP_CREATE_MKEY, 0);
        int m = create_mkey_in.memory_key_mkey_entry.byteOffset();
        mkc.pd.set(pa, m, pd);
        mkc.length64.set(pa, m, 1);
        int key = (int) create_mkey_out.mkey_index.get(ok(pa, 0x10), 0);
        byte[] mtt = msg(create_mkey_in.SIZE_BYTES + 16, MLX5_CMD_OP_CREATE_MKEY, 0);
        mkc.pd.set(mtt, m, pd);
        mkc.access_mode_1_0.set(mtt, m, MLX5_MKC_ACCESS_MODE_MTT);
        create_mkey_in.translations_octword_actual_size.set(mtt, 0, 4); // 8 entries announced, 2 present
        assertEquals(MLX5_CMD_STAT_BAD_INP_LEN_ERR, status(mtt, 0x10));
        create_mkey_in.translations_octword_actual_size.set(mtt, 0, 1);
        ok(mtt, 0x10);
        byte[] dm = msg(destroy_mkey_in.SIZE_BYTES, MLX5_CMD_OP_DESTROY_MKEY, 0);
        destroy_mkey_in.mkey_index.set(dm, 0, key);
        ok(dm, 0x10);
        assertEquals(MLX5_CMD_STAT_BAD_RES_ERR, status(dm, 0x10));

        int xrcd = alloc(MLX5_CMD_OP_ALLOC_XRCD, alloc_xrcd_out.xrcd);
        byte[] xs = msg(create_xrc_srq_in.SIZE_BYTES + 8, MLX5_CMD_OP_CREATE_XRC_SRQ, 0);
        int x = create_xrc_srq_in.xrc_srq_context_entry.byteOffset();
        xrc_srqc.pd.set(xs, x, pd);
        xrc_srqc.xrcd.set(xs, x, xrcd + 3);
        xrc_srqc.log_xrc_srq_size.set(xs, x, 4);
        put64(xs, create_xrc_srq_in.pas.byteOffset(), d.alloc(4096, 4096));
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, status(xs, 0x10), "no such XRCD");
        xrc_srqc.xrcd.set(xs, x, xrcd);
        int xsrqn = (int) create_xrc_srq_out.xrc_srqn.get(ok(xs, 0x10), 0);

        byte[] rmp = msg(create_rmp_in.SIZE_BYTES + 8, MLX5_CMD_OP_CREATE_RMP, 0);
        int w = create_rmp_in.ctx.byteOffset() + rmpc.wq.byteOffset();
        wq.pd.set(rmp, w, pd);
        wq.log_wq_stride.set(rmp, w, 6);
        wq.log_wq_sz.set(rmp, w, 4);
        put64(rmp, w + wq.pas.byteOffset(), d.alloc(4096, 4096));
        int rmpn = (int) create_rmp_out.rmpn.get(ok(rmp, 0x10), 0);
        assertNotEquals(xsrqn, rmpn, "one SRQ number space");
        byte[] wrong = msg(destroy_xrc_srq_in.SIZE_BYTES, MLX5_CMD_OP_DESTROY_XRC_SRQ, 0);
        destroy_xrc_srq_in.xrc_srqn.set(wrong, 0, rmpn);
        assertEquals(MLX5_CMD_STAT_BAD_RES_ERR, status(wrong, 0x10), "an RMP is not an XRC SRQ");
        byte[] dr = msg(destroy_rmp_in.SIZE_BYTES, MLX5_CMD_OP_DESTROY_RMP, 0);
        destroy_rmp_in.rmpn.set(dr, 0, rmpn);
        ok(dr, 0x10);
    }

    @Test
    void teardown_drops_what_the_driver_left_behind() {
        alloc(MLX5_CMD_OP_ALLOC_PD, alloc_pd_out.pd);
        ok(createCq(eqn, 6), 0x10);
        ok(msg(teardown_hca_in.SIZE_BYTES, MLX5_CMD_OP_TEARDOWN_HCA, 0), 0x10);
        assertEquals(0, d.hca.firmware.resources.pds.size());
        assertEquals(0, d.hca.firmware.resources.cqs.size());
        assertTrue(d.hca.eqs.all().isEmpty());
    }
}
