package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.query_issi_out;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.iovalab.mlx5.CommandInterfaceTest.msg;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * Entries, lengths, pointers and mailboxes full of random bytes: every entry handed to the device
 * comes back (ownership cleared, with some status), nothing escapes as an exception, and a
 * well-formed command still works afterwards.
 */
class HostileDriverTest {

    @Test
    void random_entries_and_mailboxes_always_come_back_and_the_device_keeps_working() {
        Random rnd = new Random(7);
        try (FakeDriver d = new FakeDriver()) {
            for (int round = 0; round < 300; round++) {
                int opcode = rnd.nextInt(4) == 0 ? rnd.nextInt(0x10000) : 0x100 + rnd.nextInt(0x900);
                byte[] in = new byte[8 + rnd.nextInt(1500)];
                rnd.nextBytes(in);
                mbox_opcode(in, opcode);
                FakeDriver.Prepared p = d.prepare(rnd.nextInt(31), in, 8 + rnd.nextInt(1500));
                switch (rnd.nextInt(6)) {
                    case 0 -> d.putBe32(p.entry + CommandQueue.INLEN, rnd.nextInt());
                    case 1 -> d.putBe32(p.entry + CommandQueue.OUTLEN, rnd.nextInt());
                    case 2 -> d.putBe64(p.entry + CommandQueue.IN_PTR, rnd.nextLong());
                    case 3 -> d.putBe64(p.entry + CommandQueue.OUT_PTR, rnd.nextLong() & ~0x1ffL);
                    case 4 -> {
                        if (!p.inBlocks.isEmpty()) {
                            d.putBe64(p.inBlocks.get(0) + Mailbox.NEXT, p.inBlocks.get(0)); // a chain that loops
                        }
                    }
                    default -> {
                    }
                }
                d.sign(p);
                d.ring(p);
                d.await(p); // throws if the device never gives the entry back
            }
            assertEquals(0, d.hca.internalErrors, d.hca.lastInternalError);
            // INT_ERR is what a handler's RuntimeException becomes: a bug, not an answer
            assertTrue(d.hca.firmware.log.stream().noneMatch(l -> l.contains("INT_ERR")),
                    () -> String.join("\n", d.hca.firmware.log.stream().filter(l -> l.contains("INT_ERR")).toList()));
            assertTrue(d.hca.cmdq.deliveryErrors > 0, "some of that garbage was refused at delivery");
            FakeDriver.Result r = d.exec(msg(0x10, MLX5_CMD_OP_QUERY_ISSI, 0), query_issi_out.SIZE_BYTES);
            assertEquals(0, r.delivery());
            assertEquals(0, r.status(), "the device still serves a sound command");
        }
    }

    private static void mbox_opcode(byte[] in, int opcode) {
        in[0] = (byte) (opcode >>> 8);
        in[1] = (byte) opcode;
    }
}
