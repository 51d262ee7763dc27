package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.*;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.iovalab.mlx5.CommandInterfaceTest.msg;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/** Command completions as EQEs: owner-bit protocol, one MSI-X per arm, the CI/arm doorbells, bad contexts. */
class EventQueueTest {
    final FakeDriver d = new FakeDriver();
    int uar;
    long ring;

    @BeforeEach
    void up() {
        ok(msg(enable_hca_in.SIZE_BYTES, MLX5_CMD_OP_ENABLE_HCA, 0), 0x10);
        ok(msg(init_hca_in.SIZE_BYTES, MLX5_CMD_OP_INIT_HCA, 0), 0x10);
        uar = (int) alloc_uar_out.uar.get(ok(msg(alloc_uar_in.SIZE_BYTES, MLX5_CMD_OP_ALLOC_UAR, 0), 0x10), 0);
        ring = d.alloc(4096, 4096);
        for (int i = 0; i < 4; i++) {
            d.put(ring + 64L * i + EventQueue.EQE_OWNER, (byte) 1); // init_eq_buf
        }
    }

    @AfterEach
    void close() {
        d.close();
    }

    byte[] ok(byte[] in, int outlen) {
        FakeDriver.Result r = d.exec(in, outlen);
        assertEquals(0, r.delivery());
        assertEquals(0, r.status(), () -> "status " + r.status() + " log " + d.hca.firmware.log);
        return r.out();
    }

    byte[] createEq(int logSize, int vector, int uarPage, int npas, long eventMask) {
        byte[] in = msg(create_eq_in.SIZE_BYTES + 8 * npas, MLX5_CMD_OP_CREATE_EQ, 0);
        int ctx = create_eq_in.eq_context_entry.byteOffset();
        eqc.log_eq_size.set(in, ctx, logSize);
        eqc.uar_page.set(in, ctx, uarPage);
        eqc.intr.set(in, ctx, vector);
        eqc.log_page_size.set(in, ctx, 0);
        for (int b = 0; b < 8; b++) {
            in[create_eq_in.event_bitmask.byteOffset() + b] = (byte) (eventMask >>> (56 - 8 * b));
            if (npas > 0) {
                in[create_eq_in.pas.byteOffset() + b] = (byte) (ring >>> (56 - 8 * b));
            }
        }
        return in;
    }

    int createCmdEq() {
        byte[] out = ok(createEq(2, 0, uar, 1, 1L << MLX5_EVENT_TYPE_CMD), create_eq_out.SIZE_BYTES);
        return (int) create_eq_out.eq_number.get(out, 0);
    }

    /** Waits until EQE {@code index} shows owner {@code owner} (the device posts after giving the entry back). */
    void awaitEqe(int index, int owner) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((d.get(ring + 64L * index + EventQueue.EQE_OWNER) & 1) != owner) {
            assertTrue(System.nanoTime() < deadline, "no EQE at index " + index);
            Thread.onSpinWait();
        }
    }

    void awaitInterrupts(int n) throws InterruptedException {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (d.interrupts.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertEquals(n, d.interrupts.size(), "interrupts " + d.interrupts);
    }

    @Test
    void after_the_command_eq_exists_each_completion_posts_a_cmd_eqe_and_an_armed_eq_interrupts_once() throws Exception {
        int eqn = createCmdEq();
        assertTrue(eqn < 256);
        Thread.sleep(20);
        assertEquals(1, d.get(ring + EventQueue.EQE_OWNER), "the command that created the EQ is polled: no EQE for it");
        d.uarWrite(uar, EqTable.DOORBELL_ARM, eqn << 24); // mlx5_eq_enable arms with ci 0

        FakeDriver.Prepared p = d.prepare(3, msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        d.ring(p);
        d.await(p);
        awaitEqe(0, 0);
        assertEquals(MLX5_EVENT_TYPE_CMD, d.get(ring + EventQueue.EQE_TYPE));
        assertEquals(1 << 3, d.be32(ring + EventQueue.EQE_DATA), "data.cmd.vector = completed slot");
        awaitInterrupts(1);
        assertEquals(0, d.interrupts.get(0), "the EQ's intr vector");

        // not re-armed: the next EQE is written but no interrupt
        d.exec(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        awaitEqe(1, 0);
        Thread.sleep(20);
        assertEquals(1, d.interrupts.size());
        // the driver consumed both and re-arms with ci 2: nothing pending, no interrupt
        d.uarWrite(uar, EqTable.DOORBELL_ARM, eqn << 24 | 2);
        Thread.sleep(20);
        assertEquals(1, d.interrupts.size());
        // re-armed: the next completion interrupts
        d.exec(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        awaitInterrupts(2);
        // arming while an entry is unconsumed interrupts at once (ci 2, one entry at index 2)
        d.uarWrite(uar, EqTable.DOORBELL_ARM, eqn << 24 | 2);
        awaitInterrupts(3);
    }

    @Test
    void the_owner_bit_flips_on_every_wrap_and_a_full_ring_overruns_without_harm() {
        int eqn = createCmdEq();
        for (int i = 0; i < 4; i++) {
            d.exec(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
            awaitEqe(i, 0);
        }
        // ring full (ci still 0): the fifth completion cannot be posted
        d.exec(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        EventQueue eq = d.hca.eqs.get(eqn);
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (eq.overruns == 0 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, eq.overruns);
        // the driver consumed 4 (update ci without arm): second pass writes owner 1
        for (int i = 0; i < 4; i++) {
            d.put(ring + 64L * i + 1, (byte) 0); // forget the types of the first pass
        }
        d.uarWrite(uar, EqTable.DOORBELL_UPDATE_CI, eqn << 24 | 4);
        d.exec(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
        deadline = System.nanoTime() + 5_000_000_000L;
        // the owner byte is written last (it is what the driver polls), so wait on it, not on the type
        while (d.get(ring + EventQueue.EQE_OWNER) != 1 && System.nanoTime() < deadline) {
            Thread.onSpinWait();
        }
        assertEquals(1, d.get(ring + EventQueue.EQE_OWNER), "second pass: owner 1");
        assertEquals(MLX5_EVENT_TYPE_CMD, d.get(ring + 1), "the body is there once the owner says so");
    }

    @Test
    void bad_eq_contexts_create_nothing() {
        FakeDriver.Result r = d.exec(createEq(2, 99, uar, 1, 1L << MLX5_EVENT_TYPE_CMD), create_eq_out.SIZE_BYTES);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, r.status(), "vector beyond MSI-X");
        r = d.exec(createEq(2, 0, uar + 1, 1, 1L << MLX5_EVENT_TYPE_CMD), create_eq_out.SIZE_BYTES);
        assertEquals(MLX5_CMD_STAT_BAD_PARAM_ERR, r.status(), "UAR not allocated");
        r = d.exec(createEq(7, 0, uar, 1, 1L << MLX5_EVENT_TYPE_CMD), create_eq_out.SIZE_BYTES);
        assertEquals(MLX5_CMD_STAT_BAD_INP_LEN_ERR, r.status(), "128 EQEs need 2 pages, one given");
        r = d.exec(createEq(2, 0, uar, 0, 1L << MLX5_EVENT_TYPE_CMD), create_eq_out.SIZE_BYTES);
        assertEquals(MLX5_CMD_STAT_BAD_INP_LEN_ERR, r.status(), "no page list");
        assertTrue(d.hca.eqs.all().isEmpty());
        byte[] destroy = msg(destroy_eq_in.SIZE_BYTES, MLX5_CMD_OP_DESTROY_EQ, 0);
        destroy_eq_in.eq_number.set(destroy, 0, 5);
        assertEquals(MLX5_CMD_STAT_BAD_RES_ERR, d.exec(destroy, 0x10).status());
    }

    @Test
    void destroying_the_command_eq_returns_to_polling_without_an_eqe() throws Exception {
        int eqn = createCmdEq();
        byte[] destroy = msg(destroy_eq_in.SIZE_BYTES, MLX5_CMD_OP_DESTROY_EQ, 0);
        destroy_eq_in.eq_number.set(destroy, 0, eqn);
        ok(destroy, 0x10);
        Thread.sleep(20);
        assertEquals(1, d.get(ring + EventQueue.EQE_OWNER), "no EQE into the destroyed EQ");
        assertEquals(0, d.hca.cmdEqes);
    }
}
