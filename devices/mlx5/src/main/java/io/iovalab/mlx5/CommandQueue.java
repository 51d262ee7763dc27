package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The command queue: one page of guest memory at the address the driver wrote into the
 * initialization segment, {@code 1 << log_sz} entries of {@code struct mlx5_cmd_layout}
 * (device.h). A doorbell bit hands an entry to us; we read it (and its input mailboxes), run
 * the command, write the output (inline 16 bytes, then the output mailboxes) and only then give
 * the entry back by clearing the ownership bit — the driver polls that bit until the command EQ
 * exists, and from then on waits for a CMD EQE, which {@link Completion} posts. Runs on the
 * device worker; every access goes through the IOMMU model.
 */
final class CommandQueue {
    static final int TYPE = 0x00;
    static final int INLEN = 0x04;
    static final int IN_PTR = 0x08;
    static final int IN_INLINE = 0x10;
    static final int OUT_INLINE = 0x20;
    static final int OUT_PTR = 0x30;
    static final int OUTLEN = 0x38;
    static final int TOKEN = 0x3c;
    static final int SIG = 0x3d;
    static final int STATUS_OWN = 0x3f;
    static final int ENTRY_SIZE = 0x40;

    /** Runs a command whose transport is sound; sets status/syndrome in the output itself. */
    interface Firmware {
        void execute(Command c);

        /** Whether the driver turned block signatures on (cmdif_checksum in the current caps). */
        boolean checksumEnabled();
    }

    /** Called after an entry went back to the driver: post the CMD EQE if the command EQ exists. */
    interface Completion {
        void completed(int slotMask);
    }

    private final InitSegment iseg;
    private final Firmware firmware;
    private final Completion completion;
    private final Mailbox mailbox = new Mailbox();
    private final MemorySegment entry = Arena.ofAuto().allocate(ENTRY_SIZE, 8);
    long executed;
    long deliveryErrors;
    long faults;
    long spurious;
    String lastDeliveryError = "";

    CommandQueue(InitSegment iseg, Firmware firmware, Completion completion) {
        this.iseg = iseg;
        this.firmware = firmware;
        this.completion = completion;
    }

    int slots() {
        return 1 << iseg.logCmdqSize();
    }

    /** Serves every slot in {@code mask}, lowest first. */
    void serve(DmaCommand dma, int mask) {
        for (int slot = 0; slot < slots(); slot++) {
            if ((mask & (1 << slot)) != 0) {
                serve(dma, slot, iseg.cmdqAddress() + ((long) slot << iseg.logCmdqStride()));
            }
        }
    }

    private void serve(DmaCommand dma, int slot, long at) {
        dma.start(0, slot);
        try {
            byte[] lay;
            try {
                dma.readDescriptors(at, entry, 0, ENTRY_SIZE);
                lay = entry.toArray(ValueLayout.JAVA_BYTE);
            } catch (DmaFault f) {
                // the queue itself is unreachable: there is nowhere to report it; the driver times out
                faults++;
                return;
            }
            if ((lay[STATUS_OWN] & CMD_OWNER_HW) == 0) {
                spurious++; // a doorbell for an entry the driver does not hand us
                return;
            }
            int token = lay[TOKEN] & 0xff;
            int status;
            Prepared p = null;
            try {
                p = prepare(dma, lay, token);
                firmware.execute(p.command());
                executed++;
                status = MLX5_CMD_DELIVERY_STAT_OK;
            } catch (DeliveryException e) {
                deliveryErrors++;
                lastDeliveryError = "slot " + slot + ": " + e.getMessage();
                status = e.status;
                p = null;
            }
            try {
                if (p != null) {
                    byte[] out = p.command().out;
                    mailbox.scatter(dma, p.output(), out);
                    System.arraycopy(out, 0, lay, OUT_INLINE, Math.min(16, out.length));
                    MemorySegment.copy(lay, OUT_INLINE, entry, ValueLayout.JAVA_BYTE, OUT_INLINE, 16);
                    dma.writeDescriptors(at + OUT_INLINE, entry, OUT_INLINE, 16);
                }
                // keep the entry's signature true (XOR of the 64 bytes = 0xff) with the new status
                lay[STATUS_OWN] = (byte) (status << 1);
                lay[SIG] = 0;
                lay[SIG] = (byte) ~Mailbox.xor(lay, 0, ENTRY_SIZE);
                VarHandle.storeStoreFence(); // output before ownership: the driver reads it once it owns the entry
                dma.writeByte(at + SIG, lay[SIG]);
                VarHandle.storeStoreFence();
                dma.writeByte(at + STATUS_OWN, lay[STATUS_OWN]);
            } catch (DmaFault f) {
                // the output went away between the check and the write: say so rather than leave the entry owned
                faults++;
                try {
                    dma.writeByte(at + STATUS_OWN, (byte) (MLX5_CMD_DELIVERY_STAT_OUT_PTR_ALIGN_ERR << 1));
                } catch (DmaFault again) {
                    return; // the queue page itself is gone: nothing left to tell
                }
            }
            completion.completed(1 << slot);
        } finally {
            dma.end();
        }
    }

    /** A delivered command and the output chain it will be written to, both checked. */
    private record Prepared(Command command, Mailbox.OutputChain output) {
    }

    /** Checks the entry and both mailbox chains, gathers the input; nothing has run yet. */
    private Prepared prepare(DmaCommand dma, byte[] lay, int token) throws DeliveryException {
        if (lay[TYPE] != MLX5_PCI_CMD_XPORT) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_CMD_DESCR_ERR, "type " + lay[TYPE]);
        }
        // the driver always signs the entry (set_signature, cmd.c): XOR over it is 0xff
        if (Mailbox.xor(lay, 0, ENTRY_SIZE) != 0xff) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_SIGNAT_ERR, "entry signature");
        }
        int inlen = be32(lay, INLEN);
        int outlen = be32(lay, OUTLEN);
        if (inlen < 8) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_IN_LENGTH_ERR, "inlen " + inlen);
        }
        if (outlen < 8) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_OUT_LENGTH_ERR, "outlen " + outlen);
        }
        boolean checksum = firmware.checksumEnabled();
        byte[] inline = java.util.Arrays.copyOfRange(lay, IN_INLINE, IN_INLINE + 16);
        byte[] in = mailbox.gather(dma, inline, be64(lay, IN_PTR), inlen, token, checksum);
        Mailbox.OutputChain output = mailbox.prepareOutput(dma, be64(lay, OUT_PTR), outlen, token, checksum);
        return new Prepared(new Command(in, outlen), output);
    }

    static int be32(byte[] b, int off) {
        return (b[off] & 0xff) << 24 | (b[off + 1] & 0xff) << 16 | (b[off + 2] & 0xff) << 8 | (b[off + 3] & 0xff);
    }

    static long be64(byte[] b, int off) {
        return (be32(b, off) & 0xffffffffL) << 32 | (be32(b, off + 4) & 0xffffffffL);
    }
}
