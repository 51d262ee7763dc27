package io.iovalab.mlx5;

import io.iovalab.iommu.Backing;
import io.iovalab.iommu.IovaSpace;
import io.iovalab.pci.EventSink;
import io.iovalab.pci.Interrupts;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What mlx5_core does to the device, written from the driver's side of the protocol: guest
 * memory behind an IOVA space, a command page, mailbox blocks from a 1 KiB-aligned pool, the
 * doorbell, polling the ownership bit. Tests corrupt what it built before ringing the doorbell.
 */
final class FakeDriver implements AutoCloseable {
    static final long BASE = 0x10_0000;
    static final long SIZE = 8 << 20;
    static final long CMDQ = BASE;
    final Arena arena = Arena.ofShared();
    final MemorySegment mem = arena.allocate(SIZE, 4096);
    final IovaSpace space = new IovaSpace("mlx5-test", null);
    final List<Integer> interrupts = new CopyOnWriteArrayList<>();
    final Hca hca;
    private long next = BASE + 0x1000;
    private int token;

    FakeDriver(Mlx5Config config) {
        Backing b = new Backing() {
            @Override
            public MemorySegment segment() {
                return mem;
            }

            @Override
            public void retain() {
            }

            @Override
            public void release() {
            }

            @Override
            public String describe() {
                return "test";
            }
        };
        space.setBusMasterEnabled(true);
        try {
            space.map(BASE, SIZE, b, 0, true, true);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        Interrupts irq = new Interrupts() {
            @Override
            public void signal(int vector) {
                interrupts.add(vector);
            }

            @Override
            public void deassertIntx() {
            }

            @Override
            public Mode mode() {
                return Mode.MSIX;
            }

            @Override
            public void setSinks(int irqIndex, int start, EventSink[] sinks) {
            }

            @Override
            public void disable(int irqIndex) {
            }

            @Override
            public void mask(int irqIndex, int start, int count) {
            }

            @Override
            public void unmask(int irqIndex, int start, int count) {
            }

            @Override
            public void trigger(int irqIndex, int start, int count) {
            }
        };
        hca = new Hca(config, space, Thread.ofPlatform().daemon().factory(), () -> irq);
        hca.start();
        // what mlx5_cmd_enable does: the command page address, high then low
        writeReg(InitSegment.CMDQ_ADDR_H, (int) (CMDQ >>> 32));
        writeReg(InitSegment.CMDQ_ADDR_L_SZ, (int) CMDQ);
    }

    FakeDriver() {
        this(Mlx5Config.defaults());
    }

    @Override
    public void close() {
        hca.stop();
        space.close();
        arena.close();
    }

    // ---- registers: big-endian values through the framework's little-endian accesses

    int readReg(int off) {
        return Integer.reverseBytes((int) hca.iseg.readAccess(off, 4));
    }

    void writeReg(int off, int value) {
        hca.iseg.writeAccess(off, 4, Integer.reverseBytes(value) & 0xffffffffL);
    }

    /** __raw_writel(cpu_to_be32(v)) into UAR page {@code uar} at {@code off}. */
    void uarWrite(int uar, int off, int value) {
        hca.uarWrite((long) uar * 4096 + off, 4, Integer.reverseBytes(value) & 0xffffffffL);
    }

    // ---- guest memory

    long alloc(long size, long align) {
        next = (next + align - 1) & -align;
        long at = next;
        next += size;
        if (next > BASE + SIZE) {
            throw new IllegalStateException("fake guest memory exhausted");
        }
        mem.asSlice(at - BASE, size).fill((byte) 0);
        return at;
    }

    byte get(long iova) {
        return mem.get(ValueLayout.JAVA_BYTE, iova - BASE);
    }

    void put(long iova, byte v) {
        mem.set(ValueLayout.JAVA_BYTE, iova - BASE, v);
    }

    void putBe32(long iova, int v) {
        for (int i = 0; i < 4; i++) {
            put(iova + i, (byte) (v >>> (24 - 8 * i)));
        }
    }

    void putBe64(long iova, long v) {
        putBe32(iova, (int) (v >>> 32));
        putBe32(iova + 4, (int) v);
    }

    int be32(long iova) {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            v = v << 8 | (get(iova + i) & 0xff);
        }
        return v;
    }

    long be64(long iova) {
        return (be32(iova) & 0xffffffffL) << 32 | (be32(iova + 4) & 0xffffffffL);
    }

    // ---- commands

    /** An entry and its chains, built but not yet handed over. */
    static final class Prepared {
        int slot;
        long entry;
        final List<Long> inBlocks = new ArrayList<>();
        final List<Long> outBlocks = new ArrayList<>();
        int outlen;
    }

    record Result(int delivery, byte[] out) {
        int status() {
            return out.length == 0 ? -1 : out[0] & 0xff;
        }

        int syndrome() {
            return (out[4] & 0xff) << 24 | (out[5] & 0xff) << 16 | (out[6] & 0xff) << 8 | (out[7] & 0xff);
        }
    }

    Prepared prepare(int slot, byte[] in, int outlen) {
        Prepared p = new Prepared();
        p.slot = slot;
        p.outlen = outlen;
        p.entry = CMDQ + (long) slot * CommandQueue.ENTRY_SIZE;
        int tok = (++token & 0xff) == 0 ? ++token & 0xff : token & 0xff;
        long inPtr = chain(in.length, p.inBlocks, tok, in);
        long outPtr = chain(outlen, p.outBlocks, tok, null);
        mem.asSlice(p.entry - BASE, CommandQueue.ENTRY_SIZE).fill((byte) 0);
        put(p.entry + CommandQueue.TYPE, (byte) 7);
        putBe32(p.entry + CommandQueue.INLEN, in.length);
        putBe64(p.entry + CommandQueue.IN_PTR, inPtr);
        for (int i = 0; i < Math.min(16, in.length); i++) {
            put(p.entry + CommandQueue.IN_INLINE + i, in[i]);
        }
        putBe64(p.entry + CommandQueue.OUT_PTR, outPtr);
        putBe32(p.entry + CommandQueue.OUTLEN, outlen);
        put(p.entry + CommandQueue.TOKEN, (byte) tok);
        put(p.entry + CommandQueue.STATUS_OWN, (byte) 1);
        sign(p);
        return p;
    }

    /** set_signature (cmd.c): the entry's bytes XOR to 0xff. */
    void sign(Prepared p) {
        put(p.entry + CommandQueue.SIG, (byte) 0);
        int x = 0;
        for (int i = 0; i < CommandQueue.ENTRY_SIZE; i++) {
            x ^= get(p.entry + i);
        }
        put(p.entry + CommandQueue.SIG, (byte) ~x);
    }

    private long chain(int length, List<Long> blocks, int tok, byte[] data) {
        int n = Mailbox.blocksFor(length);
        for (int i = 0; i < n; i++) {
            blocks.add(alloc(Mailbox.BLOCK_SIZE, 1024));
        }
        for (int i = 0; i < n; i++) {
            long b = blocks.get(i);
            if (data != null) {
                int off = 16 + i * Mailbox.DATA_SIZE;
                for (int k = 0; k < Math.min(Mailbox.DATA_SIZE, data.length - off); k++) {
                    put(b + k, data[off + k]);
                }
            }
            putBe64(b + Mailbox.NEXT, i + 1 < n ? blocks.get(i + 1) : 0);
            putBe32(b + Mailbox.BLOCK_NUM, i);
            put(b + Mailbox.TOKEN, (byte) tok);
        }
        return n == 0 ? 0 : blocks.get(0);
    }

    void ring(Prepared p) {
        writeReg(InitSegment.CMD_DBELL, 1 << p.slot);
    }

    /** Polls the ownership bit, as the driver does before the command EQ exists. */
    Result await(Prepared p) {
        long deadline = System.nanoTime() + 5_000_000_000L;
        while ((get(p.entry + CommandQueue.STATUS_OWN) & 1) != 0) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("the device never gave slot " + p.slot + " back");
            }
            Thread.onSpinWait();
        }
        int delivery = (get(p.entry + CommandQueue.STATUS_OWN) & 0xff) >>> 1;
        byte[] out = new byte[p.outlen];
        for (int i = 0; i < Math.min(16, p.outlen); i++) {
            out[i] = get(p.entry + CommandQueue.OUT_INLINE + i);
        }
        for (int b = 0; b < p.outBlocks.size(); b++) {
            int off = 16 + b * Mailbox.DATA_SIZE;
            for (int k = 0; k < Math.min(Mailbox.DATA_SIZE, p.outlen - off); k++) {
                out[off + k] = get(p.outBlocks.get(b) + k);
            }
        }
        return new Result(delivery, out);
    }

    Result exec(byte[] in, int outlen) {
        Prepared p = prepare(0, in, outlen);
        ring(p);
        return await(p);
    }
}
