package io.iovalab.mlx5;

import org.junit.jupiter.api.Test;

import java.util.List;

import static io.iovalab.mlx5.IbObjectsTest.put64;
import static io.iovalab.mlx5.SendWqe.*;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/** The byte formats the data path reads and writes: send WQEs (qp.h), CQEs (device.h / cq.h), key translation. */
class WqeFormatTest {

    static byte[] ctrl(int ds, int opcode, int index, boolean signaled, int imm) {
        byte[] w = new byte[256];
        Cqe.putBe32(w, 0, index << 8 | opcode);
        Cqe.putBe32(w, 4, 0x123 << 8 | ds);
        w[11] = (byte) (signaled ? MLX5_WQE_CTRL_CQ_UPDATE : 0);
        Cqe.putBe32(w, 12, imm);
        return w;
    }

    @Test
    void an_rdma_write_wqe_carries_ctrl_raddr_and_data_segments() throws Exception {
        byte[] w = ctrl(4, MLX5_OPCODE_RDMA_WRITE_IMM, 0x1234, true, 0xcafe);
        put64(w, 16, 0x7f00_0000_1000L);
        Cqe.putBe32(w, 24, 0xabcd01);
        Cqe.putBe32(w, 32, 300);
        Cqe.putBe32(w, 36, 0x501);
        put64(w, 40, 0x5000);
        Cqe.putBe32(w, 48, 0); // byte_count 0: 2^31 bytes
        Cqe.putBe32(w, 52, 0x601);
        put64(w, 56, 0x6000);
        SendWqe p = SendWqe.parse(w, false);
        assertEquals(0x1234, p.index());
        assertEquals(MLX5_OPCODE_RDMA_WRITE_IMM, p.opcode());
        assertTrue(p.signaled());
        assertTrue(p.hasImm());
        assertEquals(0xcafe, p.imm());
        assertEquals(0x7f00_0000_1000L, p.raddr());
        assertEquals(0xabcd01, p.rkey());
        assertEquals(List.of(new Sge(0x501, 0x5000, 300), new Sge(0x601, 0x6000, 1L << 31)), p.gather());
        assertEquals(300 + (1L << 31), p.length());
    }

    @Test
    void inline_data_is_padded_to_16_bytes_and_a_datagram_segment_is_skipped() throws Exception {
        byte[] w = ctrl(1 + 3 + 2 + 1, MLX5_OPCODE_SEND, 0, false, 0);
        int at = 16 + DATAGRAM_SIZE;
        Cqe.putBe32(w, at, MLX5_INLINE_SEG | 13);
        for (int i = 0; i < 13; i++) {
            w[at + 4 + i] = (byte) ('a' + i);
        }
        Cqe.putBe32(w, at + 32, 8); // the data segment after the 4 + 13 bytes rounded up to 32
        Cqe.putBe32(w, at + 36, 0x77);
        put64(w, at + 40, 0x9000);
        SendWqe p = SendWqe.parse(w, true);
        assertFalse(p.signaled());
        assertEquals(2, p.gather().size());
        assertArrayEquals("abcdefghijklm".getBytes(), ((Inline) p.gather().get(0)).data());
        assertEquals(new Sge(0x77, 0x9000, 8), p.gather().get(1));
    }

    @Test
    void a_wqe_whose_segments_do_not_fit_its_ds_is_malformed() {
        assertThrows(Malformed.class, () -> SendWqe.parse(ctrl(0, MLX5_OPCODE_SEND, 0, true, 0), false), "DS 0");
        assertThrows(Malformed.class, () -> SendWqe.parse(ctrl(17, MLX5_OPCODE_SEND, 0, true, 0), false), "beyond the buffer");
        assertThrows(Malformed.class, () -> SendWqe.parse(ctrl(1, MLX5_OPCODE_RDMA_READ, 0, true, 0), false), "no raddr");
        byte[] w = ctrl(2, MLX5_OPCODE_SEND, 0, true, 0);
        Cqe.putBe32(w, 16, MLX5_INLINE_SEG | 40); // 40 inline bytes in a 16-byte segment
        assertThrows(Malformed.class, () -> SendWqe.parse(w, false));
    }

    @Test
    void cqes_put_each_field_where_mlx5_cqe64_and_mlx5_err_cqe_have_it() {
        Resources.Qp qp = new Resources.Qp(0x1a2b3c, MLX5_QPC_ST_RC, 1, 1, 1, MLX5_QPC_STATE_RTS);
        qp.userIndex = 0x42;
        byte[] r = Cqe.responder(qp, Cqe.MLX5_CQE_RESP_SEND_IMM, 0x0102, 777, 0xdeadbeef, 0x000105, 1).bytes();
        assertEquals(0x42, SendWqe.be32(r, 0x20), "srqn/user index");
        assertEquals(0xdeadbeef, SendWqe.be32(r, 0x24), "immediate");
        assertEquals(777, SendWqe.be32(r, 0x2c), "byte_cnt");
        assertEquals(0x105, SendWqe.be32(r, 0x18), "flags_rqpn");
        assertEquals(1, r[0x17], "slid low byte");
        assertEquals(0x1a2b3c, SendWqe.be32(r, 0x38), "sop_drop_qpn");
        assertEquals(0x01, r[0x3c]);
        assertEquals(0x02, r[0x3d]);
        assertEquals(Cqe.MLX5_CQE_RESP_SEND_IMM << 4, r[0x3f], "op_own, owner bit left to the CQ");
        byte[] e = Cqe.requesterError(qp, MLX5_OPCODE_RDMA_READ, 7, Cqe.MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR).bytes();
        assertEquals(Cqe.MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR, e[0x37], "syndrome");
        assertEquals(MLX5_OPCODE_RDMA_READ << 24 | 0x1a2b3c, SendWqe.be32(e, 0x38), "s_wqe_opcode_qpn");
        assertEquals((byte) (Cqe.MLX5_CQE_REQ_ERR << 4), e[0x3f]);
    }

    @Test
    void keys_translate_page_by_page_and_refuse_what_they_do_not_grant() {
        Resources r = new Resources();
        int pd = r.pds.add(n -> n);
        int index = r.mkeys.add(n -> new Resources.Mkey(n, pd, MLX5_MKC_ACCESS_MODE_MTT, false, 0x10_0800L, 3 * 4096, false));
        Resources.Mkey m = r.mkeys.get(index);
        m.variant = 9;
        m.access = MemoryKeys.LOCAL_WRITE | MemoryKeys.REMOTE_READ;
        m.mtt.put(0L, 0xa000L | MemoryKeys.MTT_READ | MemoryKeys.MTT_WRITE);
        m.mtt.put(1L, 0xe000L | MemoryKeys.MTT_READ | MemoryKeys.MTT_WRITE);
        m.mtt.put(2L, 0xc000L | MemoryKeys.MTT_READ); // an ODP page mapped for reading only
        int key = index << 8 | 9;
        // 0x10_0800 is 0x800 into page 0: 0x900 bytes at 0x10_0f00 span pages 0 and 1, not contiguous in IOVA
        var t = MemoryKeys.translate(r, pd, key, 0x10_0f00L, 0x900, MemoryKeys.LOCAL_WRITE);
        assertEquals(new MemoryKeys.Mapped(List.of(new MemoryKeys.Range(0xaf00, 0x100), new MemoryKeys.Range(0xe000, 0x800))), t);
        assertEquals(MemoryKeys.Reason.NOT_PRESENT, denied(MemoryKeys.translate(r, pd, key, 0x10_2000L, 16, MemoryKeys.LOCAL_WRITE)),
                "a read-only ODP page is not present for writing");
        assertInstanceOf(MemoryKeys.Mapped.class, MemoryKeys.translate(r, pd, key, 0x10_2000L, 16, MemoryKeys.REMOTE_READ));
        assertEquals(MemoryKeys.Reason.ACCESS, denied(MemoryKeys.translate(r, pd, key, 0x10_0800L, 16, MemoryKeys.REMOTE_WRITE)));
        assertEquals(MemoryKeys.Reason.RANGE, denied(MemoryKeys.translate(r, pd, key, 0x10_0800L + 3 * 4096 - 8, 16, 0)));
        assertEquals(MemoryKeys.Reason.RANGE, denied(MemoryKeys.translate(r, pd, key, 0x10_0700L, 16, 0)), "below the start");
        assertEquals(MemoryKeys.Reason.BAD_KEY, denied(MemoryKeys.translate(r, pd, index << 8 | 8, 0x10_0800L, 16, 0)));
        assertEquals(MemoryKeys.Reason.PD_MISMATCH, denied(MemoryKeys.translate(r, pd + 1, key, 0x10_0800L, 16, 0)));
        m.mtt.remove(1L);
        assertEquals(MemoryKeys.Reason.NOT_PRESENT, denied(MemoryKeys.translate(r, pd, key, 0x10_1000L, 16, 0)), "zapped");
    }

    static MemoryKeys.Reason denied(MemoryKeys.Translation t) {
        return t instanceof MemoryKeys.Denied d ? d.reason() : null;
    }
}
