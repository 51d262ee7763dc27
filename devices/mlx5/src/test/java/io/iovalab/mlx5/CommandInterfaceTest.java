package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/** The command interface driven the way mlx5_core drives it, plus the inputs a broken or hostile driver writes. */
class CommandInterfaceTest {
    final FakeDriver d = new FakeDriver();

    @AfterEach
    void close() {
        d.close();
    }

    static byte[] msg(int size, int opcode, int opMod) {
        byte[] b = new byte[size];
        mbox_in.opcode.set(b, 0, opcode);
        mbox_in.op_mod.set(b, 0, opMod);
        return b;
    }

    static long get(byte[] b, Field f) {
        return f.get(b, 0);
    }

    FakeDriver.Result ok(byte[] in, int outlen) {
        FakeDriver.Result r = d.exec(in, outlen);
        assertEquals(0, r.delivery(), "delivery status");
        assertEquals(0, r.status(), () -> String.format("status 0x%x syndrome 0x%x; log %s", r.status(), r.syndrome(),
                d.hca.firmware.log));
        return r;
    }

    // ---------------------------------------------------------------- init segment

    @Test
    void init_segment_reports_cmdif_rev_5_queue_geometry_and_a_moving_health_counter() {
        try (FakeDriver fresh = new FakeDriver()) {
            assertEquals(5, fresh.readReg(InitSegment.CMDIF_REV_FW_SUB) >>> 16);
            assertEquals(16, fresh.readReg(InitSegment.FW_REV) & 0xffff);
            int lsz = fresh.readReg(InitSegment.CMDQ_ADDR_L_SZ);
            assertEquals(5, (lsz >>> 4) & 0xf, "log_cmdq_size");
            assertEquals(6, lsz & 0xf, "log_cmdq_stride");
            assertEquals(0, (lsz >>> 8) & 7, "nic_interface up");
            assertEquals((int) FakeDriver.CMDQ, lsz & 0xfffff000, "the low address the driver wrote");
            int h1 = fresh.readReg(InitSegment.HEALTH_COUNTER);
            int h2 = fresh.readReg(InitSegment.HEALTH_COUNTER);
            assertNotEquals(h1, h2, "health counter must move between polls");
            assertNotEquals(-1, fresh.readReg(InitSegment.HEALTH_FW_VER), "fw_ver ~0 is the driver's 'PCI dead' sensor");
        }
    }

    @Test
    void initializing_bit_clears_after_a_few_polls_and_comes_back_on_reset() {
        int polls = 0;
        while ((d.readReg(InitSegment.INITIALIZING) & (1 << 31)) != 0) {
            polls++;
            assertTrue(polls < 10, "firmware never finished initializing");
        }
        assertTrue(polls > 0, "the bit is set right after reset");
        d.hca.reset();
        assertNotEquals(0, d.readReg(InitSegment.INITIALIZING) & (1 << 31));
    }

    @Test
    void init_segment_is_big_endian_at_byte_granularity() {
        // cmdif_rev 5 sits in the first two bytes of the dword at 4: byte 4 = 0x00, byte 5 = 0x05
        assertEquals(0x00, d.hca.iseg.readAccess(4, 1));
        assertEquals(0x05, d.hca.iseg.readAccess(5, 1));
        assertEquals(0x0500, d.hca.iseg.readAccess(4, 2));
    }

    // ---------------------------------------------------------------- the driver's probe and remove

    @Test
    void probe_and_remove_in_the_drivers_order_return_every_page_at_the_iova_it_was_given() {
        ok(msg(enable_hca_in.SIZE_BYTES, MLX5_CMD_OP_ENABLE_HCA, 0), enable_hca_out.SIZE_BYTES);
        byte[] issi = ok(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES).out();
        assertEquals(0b10, get(issi, query_issi_out.supported_issi_dw0) & 0b10, "ISSI 1 supported");
        byte[] set = msg(set_issi_in.SIZE_BYTES, MLX5_CMD_OP_SET_ISSI, 0);
        set_issi_in.current_issi.set(set, 0, 1);
        ok(set, set_issi_out.SIZE_BYTES);

        List<Long> given = new ArrayList<>();
        given.addAll(satisfyPages(MLX5_QUERY_PAGES_IN_OP_MOD_BOOT_PAGES));
        assertEquals(Mlx5Config.defaults().bootPages(), given.size());

        byte[] cur = ok(msg(query_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_CAP, MLX5_CAP_GENERAL << 1 | 1),
                query_hca_cap_out.SIZE_BYTES).out();
        int cap = query_hca_cap_out.capability.byteOffset();
        assertEquals(0, cmd_hca_cap.port_type.get(cur, cap), "IB port");
        assertEquals(1, cmd_hca_cap.num_ports.get(cur, cap));
        assertEquals(0, cmd_hca_cap.bf.get(cur, cap));
        assertEquals(4, cmd_hca_cap.log_max_eq.get(cur, cap));
        assertEquals(1, cmd_hca_cap.page_request_disable.get(cur, cap));

        // handle_hca_cap: copy cur, change pkey/log_max_qp/checksum/uar page size, set
        byte[] sc = msg(set_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_SET_HCA_CAP, MLX5_CAP_GENERAL << 1);
        int sbase = set_hca_cap_in.capability.byteOffset();
        System.arraycopy(cur, cap, sc, sbase, cmd_hca_cap.SIZE_BYTES);
        cmd_hca_cap.log_max_qp.set(sc, sbase, 17);
        ok(sc, set_hca_cap_out.SIZE_BYTES);
        byte[] after = ok(msg(query_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_HCA_CAP, MLX5_CAP_GENERAL << 1 | 1),
                query_hca_cap_out.SIZE_BYTES).out();
        assertEquals(17, cmd_hca_cap.log_max_qp.get(after, cap), "SET_HCA_CAP changed the current page");

        given.addAll(satisfyPages(MLX5_QUERY_PAGES_IN_OP_MOD_INIT_PAGES));
        assertEquals(Mlx5Config.defaults().bootPages() + Mlx5Config.defaults().initPages(), given.size());
        ok(msg(init_hca_in.SIZE_BYTES, MLX5_CMD_OP_INIT_HCA, 0), init_hca_out.SIZE_BYTES);
        byte[] adapter = ok(msg(query_adapter_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_ADAPTER, 0), query_adapter_out.SIZE_BYTES).out();
        int pb = query_adapter_out.query_adapter_struct.byteOffset() + query_adapter_param_block.vsd_contd_psid.byteOffset();
        assertEquals(Mlx5Config.defaults().boardId(), new String(adapter, pb, 16, java.nio.charset.StandardCharsets.US_ASCII).trim());
        int uar = allocUar();
        assertTrue(uar >= 3, "UAR pages start after the init segment: " + uar);

        ok(msg(teardown_hca_in.SIZE_BYTES, MLX5_CMD_OP_TEARDOWN_HCA, 0), teardown_hca_out.SIZE_BYTES);
        // mlx5_reclaim_startup_pages: batches until nothing is left
        Set<Long> back = new HashSet<>();
        while (true) {
            int ask = 10;
            byte[] take = msg(manage_pages_in.SIZE_BYTES, MLX5_CMD_OP_MANAGE_PAGES, MLX5_PAGES_TAKE);
            manage_pages_in.input_num_entries.set(take, 0, ask);
            byte[] out = ok(take, manage_pages_out.SIZE_BYTES + 8 * ask).out();
            long n = get(out, manage_pages_out.output_num_entries);
            assertTrue(n <= ask);
            if (n == 0) {
                break;
            }
            for (int i = 0; i < n; i++) {
                assertTrue(back.add(PageCommands.be64(out, manage_pages_out.pas.byteOffset() + 8 * i)));
            }
        }
        assertEquals(new HashSet<>(given), back, "exactly the pages given, each once");
        ok(msg(disable_hca_in.SIZE_BYTES, MLX5_CMD_OP_DISABLE_HCA, 0), disable_hca_out.SIZE_BYTES);
        assertEquals(0, d.hca.firmware.pages.held());
        assertEquals(given.size(), d.hca.firmware.pages.returned);
        assertEquals(0, d.hca.firmware.failed);
    }

    List<Long> satisfyPages(int opMod) {
        byte[] q = ok(msg(query_pages_in.SIZE_BYTES, MLX5_CMD_OP_QUERY_PAGES, opMod), query_pages_out.SIZE_BYTES).out();
        int n = (int) get(q, query_pages_out.num_pages);
        List<Long> pages = new ArrayList<>();
        byte[] give = msg(manage_pages_in.SIZE_BYTES + 8 * n, MLX5_CMD_OP_MANAGE_PAGES, MLX5_PAGES_GIVE);
        manage_pages_in.input_num_entries.set(give, 0, n);
        for (int i = 0; i < n; i++) {
            long p = d.alloc(4096, 4096);
            pages.add(p);
            for (int b = 0; b < 8; b++) {
                give[manage_pages_in.pas.byteOffset() + 8 * i + b] = (byte) (p >>> (56 - 8 * b));
            }
        }
        if (n > 0) {
            ok(give, manage_pages_out.SIZE_BYTES);
        }
        return pages;
    }

    int allocUar() {
        return (int) get(ok(msg(alloc_uar_in.SIZE_BYTES, MLX5_CMD_OP_ALLOC_UAR, 0), alloc_uar_out.SIZE_BYTES).out(),
                alloc_uar_out.uar);
    }

    void bringUp() {
        ok(msg(enable_hca_in.SIZE_BYTES, MLX5_CMD_OP_ENABLE_HCA, 0), enable_hca_out.SIZE_BYTES);
        ok(msg(init_hca_in.SIZE_BYTES, MLX5_CMD_OP_INIT_HCA, 0), init_hca_out.SIZE_BYTES);
    }

    // ---------------------------------------------------------------- failures answered, never silent

    @Test
    void unknown_opcode_answers_bad_op_with_a_syndrome_naming_it() {
        FakeDriver.Result r = d.exec(msg(0x10, 0x0abc, 0), 0x10);
        assertEquals(0, r.delivery());
        assertEquals(MLX5_CMD_STAT_BAD_OP_ERR, r.status());
        assertEquals(Syndrome.UNKNOWN_OPCODE | 0x0abc, r.syndrome());
        // and the device still works
        ok(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
    }

    @Test
    void every_command_and_its_status_reaches_the_device_trace() {
        List<io.iovalab.spi.DeviceEvent> seen = new ArrayList<>();
        d.hca.firmware.trace.subscribe(seen::add);
        d.exec(msg(0x10, 0x0abc, 0), 0x10);
        ok(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        assertEquals(2, seen.size(), seen.toString());
        assertEquals("COMMAND", seen.get(0).kind());
        assertEquals("BAD_OP_ERR", seen.get(0).fields().get("status"), seen.toString());
        assertEquals("0xabc", seen.get(0).fields().get("opcode_id"), seen.toString());
        assertEquals(String.format("0x%x", Syndrome.UNKNOWN_OPCODE | 0x0abc), seen.get(0).fields().get("syndrome"));
        assertEquals("QUERY_ISSI", seen.get(1).fields().get("opcode"), seen.toString());
        assertEquals("OK", seen.get(1).fields().get("status"), seen.toString());
    }

    @Test
    void commands_out_of_order_answer_bad_system_state() {
        FakeDriver.Result r = d.exec(msg(init_hca_in.SIZE_BYTES, MLX5_CMD_OP_INIT_HCA, 0), 0x10);
        assertEquals(MLX5_CMD_STAT_BAD_SYS_STATE_ERR, r.status(), "INIT_HCA before ENABLE_HCA");
        r = d.exec(msg(alloc_uar_in.SIZE_BYTES, MLX5_CMD_OP_ALLOC_UAR, 0), 0x10);
        assertEquals(MLX5_CMD_STAT_BAD_SYS_STATE_ERR, r.status(), "ALLOC_UAR before INIT_HCA");
    }

    @Test
    void wrong_block_number_in_the_input_chain_is_a_delivery_error_and_nothing_runs() {
        byte[] give = pageGive(100); // 16 + 800 bytes: two input blocks
        FakeDriver.Prepared p = d.prepare(0, give, manage_pages_out.SIZE_BYTES);
        assertEquals(2, p.inBlocks.size());
        d.putBe32(p.inBlocks.get(1) + Mailbox.BLOCK_NUM, 7);
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_BAD_BLK_NUM_ERR, d.await(p).delivery());
        assertEquals(0, d.hca.firmware.pages.held(), "a command that was not delivered did not run");
    }

    @Test
    void wrong_token_in_a_block_is_a_token_error() {
        FakeDriver.Prepared p = d.prepare(0, pageGive(10), manage_pages_out.SIZE_BYTES);
        d.put(p.inBlocks.get(0) + Mailbox.TOKEN, (byte) (d.get(p.inBlocks.get(0) + Mailbox.TOKEN) + 1));
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_TOK_ERR, d.await(p).delivery());
    }

    @Test
    void unmapped_and_unaligned_mailbox_pointers_are_pointer_errors_and_the_fault_is_logged() {
        FakeDriver.Prepared p = d.prepare(0, pageGive(10), manage_pages_out.SIZE_BYTES);
        d.putBe64(p.entry + CommandQueue.IN_PTR, 0x7000_0000L); // nothing mapped there
        d.sign(p);
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_IN_PTR_ALIGN_ERR, d.await(p).delivery());
        assertTrue(d.space.statistics().faults() > 0, "the IOMMU model saw the bad IOVA");

        FakeDriver.Prepared q = d.prepare(1, msg(0x10, MLX5_CMD_OP_QUERY_HCA_CAP, 1), query_hca_cap_out.SIZE_BYTES);
        d.putBe64(q.entry + CommandQueue.OUT_PTR, q.outBlocks.get(0) + 8);
        d.sign(q);
        d.ring(q);
        assertEquals(MLX5_CMD_DELIVERY_STAT_OUT_PTR_ALIGN_ERR, d.await(q).delivery());
    }

    @Test
    void a_chain_shorter_than_the_length_is_a_length_error() {
        FakeDriver.Prepared p = d.prepare(0, pageGive(100), manage_pages_out.SIZE_BYTES);
        d.putBe64(p.inBlocks.get(0) + Mailbox.NEXT, 0);
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_IN_LENGTH_ERR, d.await(p).delivery());
    }

    @Test
    void a_bad_output_chain_fails_before_the_command_runs() {
        FakeDriver.Prepared p = d.prepare(0, msg(enable_hca_in.SIZE_BYTES, MLX5_CMD_OP_ENABLE_HCA, 0), 0x10 + 600);
        d.putBe32(p.outBlocks.get(1) + Mailbox.BLOCK_NUM, 0);
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_BAD_BLK_NUM_ERR, d.await(p).delivery());
        assertEquals(Firmware.HcaState.DISABLED, d.hca.firmware.state, "ENABLE_HCA did not run");
    }

    @Test
    void a_corrupted_entry_signature_and_a_wrong_descriptor_type_are_refused() {
        FakeDriver.Prepared p = d.prepare(0, msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        d.put(p.entry + CommandQueue.SIG, (byte) (d.get(p.entry + CommandQueue.SIG) ^ 0x55));
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_SIGNAT_ERR, d.await(p).delivery());

        FakeDriver.Prepared q = d.prepare(0, msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        d.put(q.entry + CommandQueue.TYPE, (byte) 3);
        d.sign(q);
        d.ring(q);
        assertEquals(MLX5_CMD_DELIVERY_STAT_CMD_DESCR_ERR, d.await(q).delivery());
    }

    @Test
    void block_signatures_are_checked_once_the_driver_turns_the_checksum_on() {
        bringUp();
        byte[] sc = msg(set_hca_cap_in.SIZE_BYTES, MLX5_CMD_OP_SET_HCA_CAP, MLX5_CAP_GENERAL << 1);
        int base = set_hca_cap_in.capability.byteOffset();
        System.arraycopy(d.hca.firmware.caps.page(MLX5_CAP_GENERAL, true), 0, sc, base, cmd_hca_cap.SIZE_BYTES);
        cmd_hca_cap.cmdif_checksum.set(sc, base, 3);
        ok(sc, 0x10);
        // blocks unsigned (the fake driver does not sign them): refused
        FakeDriver.Prepared p = d.prepare(0, pageGive(10), manage_pages_out.SIZE_BYTES);
        d.ring(p);
        assertEquals(MLX5_CMD_DELIVERY_STAT_SIGNAT_ERR, d.await(p).delivery());
        // signed as calc_block_sig does: accepted
        FakeDriver.Prepared q = d.prepare(0, pageGive(10), manage_pages_out.SIZE_BYTES);
        for (long b : q.inBlocks) {
            d.put(b + Mailbox.RSVD0, (byte) 0);
            int ctrl = 0;
            for (int i = Mailbox.RSVD0; i < Mailbox.BLOCK_SIZE - 2; i++) {
                ctrl ^= d.get(b + i);
            }
            d.put(b + Mailbox.CTRL_SIG, (byte) ~ctrl);
            int all = 0;
            for (int i = 0; i < Mailbox.BLOCK_SIZE - 1; i++) {
                all ^= d.get(b + i);
            }
            d.put(b + Mailbox.SIG, (byte) ~all);
        }
        d.ring(q);
        FakeDriver.Result r = d.await(q);
        assertEquals(0, r.delivery());
        assertEquals(0, r.status());
        // and the output blocks come back signed
        FakeDriver.Prepared c = d.prepare(0, msg(0x10, MLX5_CMD_OP_QUERY_HCA_CAP, 1), query_hca_cap_out.SIZE_BYTES);
        d.ring(c);
        assertEquals(0, d.await(c).delivery());
        for (long b : c.outBlocks) {
            int all = 0;
            for (int i = 0; i < Mailbox.BLOCK_SIZE; i++) {
                all ^= d.get(b + i);
            }
            assertEquals(0xff, all & 0xff, "output block signature");
        }
    }

    byte[] pageGive(int n) {
        byte[] give = msg(manage_pages_in.SIZE_BYTES + 8 * n, MLX5_CMD_OP_MANAGE_PAGES, MLX5_PAGES_GIVE);
        manage_pages_in.input_num_entries.set(give, 0, n);
        for (int i = 0; i < n; i++) {
            long p = d.alloc(4096, 4096);
            for (int b = 0; b < 8; b++) {
                give[manage_pages_in.pas.byteOffset() + 8 * i + b] = (byte) (p >>> (56 - 8 * b));
            }
        }
        return give;
    }

    @Test
    void pages_that_do_not_translate_or_repeat_are_refused_whole() {
        byte[] give = pageGive(3);
        PageCommands.be64(give, 0); // keep the helper honest about offsets
        for (int b = 0; b < 8; b++) {
            give[manage_pages_in.pas.byteOffset() + 16 + b] = (byte) (0x7000_0000L >>> (56 - 8 * b));
        }
        FakeDriver.Result r = d.exec(give, manage_pages_out.SIZE_BYTES);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, r.status());
        assertEquals(Syndrome.DMA_FAULT, r.syndrome());
        assertEquals(0, d.hca.firmware.pages.held(), "all or nothing");

        byte[] twice = pageGive(2);
        System.arraycopy(twice, manage_pages_in.pas.byteOffset(), twice, manage_pages_in.pas.byteOffset() + 8, 8);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, d.exec(twice, manage_pages_out.SIZE_BYTES).status());

        byte[] liar = pageGive(2);
        manage_pages_in.input_num_entries.set(liar, 0, 50); // more entries than the message holds
        assertEquals(MLX5_CMD_STAT_BAD_INP_LEN_ERR, d.exec(liar, manage_pages_out.SIZE_BYTES).status());
    }

    @Test
    void short_output_buffers_get_a_length_status_not_an_exception() {
        FakeDriver.Result r = d.exec(msg(0x10, MLX5_CMD_OP_QUERY_HCA_CAP, 1), 0x20);
        assertEquals(MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, r.status());
        FakeDriver.Result s = d.exec(new byte[8], 0x10); // opcode 0, too short for anything
        assertEquals(0, s.delivery());
        assertEquals(MLX5_CMD_STAT_BAD_OP_ERR, s.status());
    }

    @Test
    void access_reg_writes_and_reads_host_endianness_and_refuses_other_registers() {
        byte[] w = msg(access_register_in.SIZE_BYTES + 16, MLX5_CMD_OP_ACCESS_REG, RegisterCommands.WRITE);
        access_register_in.register_id.set(w, 0, MLX5_REG_HOST_ENDIANNESS);
        w[0x10] = (byte) 0x80;
        ok(w, access_register_out.SIZE_BYTES + 16);
        byte[] rd = msg(access_register_in.SIZE_BYTES + 16, MLX5_CMD_OP_ACCESS_REG, RegisterCommands.READ);
        access_register_in.register_id.set(rd, 0, MLX5_REG_HOST_ENDIANNESS);
        assertEquals((byte) 0x80, ok(rd, access_register_out.SIZE_BYTES + 16).out()[0x10]);
        byte[] other = msg(access_register_in.SIZE_BYTES + 16, MLX5_CMD_OP_ACCESS_REG, RegisterCommands.READ);
        access_register_in.register_id.set(other, 0, MLX5_REG_PPCNT); // counters: not modelled
        FakeDriver.Result r = d.exec(other, access_register_out.SIZE_BYTES + 0x100);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, r.status());
        assertEquals(Syndrome.UNKNOWN_REGISTER | MLX5_REG_PPCNT, r.syndrome());
    }

    @Test
    void reset_forgets_pages_and_state() {
        bringUp();
        byte[] give = pageGive(4);
        ok(give, manage_pages_out.SIZE_BYTES);
        d.hca.reset();
        assertEquals(0, d.hca.firmware.pages.held());
        assertEquals(4, d.hca.firmware.pages.droppedByReset);
        assertEquals(Firmware.HcaState.DISABLED, d.hca.firmware.state);
    }
}
