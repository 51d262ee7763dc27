package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.*;
import org.junit.jupiter.api.Test;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/** The generated tables agree with facts stated independently (kernel reference §5, Appendix A). */
class LayoutTest {

    @Test
    void generated_offsets_match_the_kernel_reference() {
        assertEquals(new Field(0x1b6, 2), cmd_hca_cap.port_type);
        assertEquals(new Field(0x1a2, 1), cmd_hca_cap.ib_virt);
        assertEquals(new Field(0x227, 1), cmd_hca_cap.pg);
        assertEquals(new Field(0x23c, 1), cmd_hca_cap.xrc);
        assertEquals(new Field(0x260, 1), cmd_hca_cap.bf);
        assertEquals(new Field(0x6, 1), cmd_hca_cap.page_request_disable);
        assertEquals(new Field(0x20, 1), cmd_hca_cap.hca_cap_2);
        assertEquals(new Field(0x118, 1), cmd_hca_cap.umr_extended_translation_offset);
        assertEquals(0x100, cmd_hca_cap.SIZE_BYTES);
        assertEquals(0x1010, query_hca_cap_out.SIZE_BYTES);
        assertEquals(0x40, eqc.SIZE_BYTES);
        assertEquals(0x110, create_eq_in.SIZE_BYTES);
        assertEquals(0x10, query_hca_cap_out.capability.byteOffset());
    }

    @Test
    void generated_constants_match_appendix_a() {
        assertEquals(0x100, MLX5_CMD_OP_QUERY_HCA_CAP);
        assertEquals(0x104, MLX5_CMD_OP_ENABLE_HCA);
        assertEquals(0x108, MLX5_CMD_OP_MANAGE_PAGES);
        assertEquals(0x301, MLX5_CMD_OP_CREATE_EQ);
        assertEquals(0x805, MLX5_CMD_OP_ACCESS_REG);
        assertEquals(0x7004, MLX5_REG_HOST_ENDIANNESS);
        assertEquals(0x0a, MLX5_EVENT_TYPE_CMD);
        assertEquals(0x20, MLX5_CAP_GENERAL_2);
        assertEquals(2, MLX5_CMD_STAT_BAD_OP_ERR);
        assertEquals(7, MLX5_PCI_CMD_XPORT);
    }

    @Test
    void fields_read_and_write_big_endian_msb_first_at_any_alignment() {
        byte[] b = new byte[8];
        new Field(4, 8).set(b, 0, 0xab);          // straddles bytes 0 and 1
        assertArrayEquals(new byte[] {0x0a, (byte) 0xb0, 0, 0, 0, 0, 0, 0}, b);
        assertEquals(0xab, new Field(4, 8).get(b, 0));
        new Field(0x30, 0x10).set(b, 0, 0x1234);  // a byte-aligned halfword
        assertEquals(0x12, b[6]);
        assertEquals(0x34, b[7]);
        new Field(0, 1).set(b, 0, 1);
        assertEquals((byte) 0x8a, b[0], "bit 0 is the MSB of byte 0; neighbours untouched");
        new Field(0, 1).set(b, 0, 0);
        assertEquals(0x0a, b[0]);
        byte[] w = new byte[16];
        new Field(0x40, 0x40).set(w, 0, 0x1122334455667788L);
        assertEquals(0x1122334455667788L, new Field(0x40, 0x40).get(w, 0));
        assertEquals(0x11, w[8]);
        assertEquals(0x55, new Field(0x10, 0x8).get(new byte[] {0, 0, 0x55}, 0));
        assertEquals(0x55, new Field(0x0, 0x8).get(new byte[] {0, 0, 0x55}, 2), "a nested struct's base");
    }
}
