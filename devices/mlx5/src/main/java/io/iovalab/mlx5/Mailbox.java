package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * Mailbox chains ({@code struct mlx5_cmd_prot_block}, device.h): the part of a command message
 * beyond the 16 inline bytes, in 512-byte data blocks linked by big-endian IOVAs. Every block is
 * checked before anything is executed or written: its alignment, that it is mapped, its
 * block_num (its index in the chain) and its token (the entry's). Signatures are checked only
 * when the driver turned the checksum on. Reads and writes go through the IOMMU model as control
 * traffic.
 */
final class Mailbox {
    static final int BLOCK_SIZE = 0x240;
    static final int DATA_SIZE = 512;
    static final int RSVD0 = 0x200;
    static final int NEXT = 0x230;
    static final int BLOCK_NUM = 0x238;
    static final int TOKEN = 0x23d;
    static final int CTRL_SIG = 0x23e;
    static final int SIG = 0x23f;
    /** The driver's dma_pool aligns blocks to 1 KiB; we insist on the 512 bytes the pointer format leaves. */
    static final long ALIGN_MASK = 0x1ff;
    /** Largest message we accept: 16 + 4096 blocks (the driver's biggest, a full page list, is far smaller). */
    static final int MAX_LENGTH = 16 + DATA_SIZE * 4096;

    private final MemorySegment scratch = Arena.ofAuto().allocate(BLOCK_SIZE, 8);

    static int blocksFor(int length) {
        return length <= 16 ? 0 : (length - 16 + DATA_SIZE - 1) / DATA_SIZE;
    }

    /**
     * Reads the input message: {@code inline16} then the chain's data. Throws the delivery status
     * the driver will see for a chain that does not hold {@code length} bytes.
     */
    byte[] gather(DmaCommand dma, byte[] inline16, long ptr, int length, int token, boolean checksum)
            throws DeliveryException {
        if (length < 0 || length > MAX_LENGTH) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_IN_LENGTH_ERR, "input length " + length);
        }
        byte[] msg = new byte[length];
        System.arraycopy(inline16, 0, msg, 0, Math.min(16, length));
        int n = blocksFor(length);
        for (int i = 0; i < n; i++) {
            byte[] block = readBlock(dma, ptr, i, token, checksum, true);
            int off = 16 + i * DATA_SIZE;
            System.arraycopy(block, 0, msg, off, Math.min(DATA_SIZE, length - off));
            ptr = next(block);
        }
        return msg;
    }

    /** Walks and checks the output chain before the command runs; returns the blocks' IOVAs and contents. */
    OutputChain prepareOutput(DmaCommand dma, long ptr, int length, int token, boolean checksum) throws DeliveryException {
        if (length < 0 || length > MAX_LENGTH) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_OUT_LENGTH_ERR, "output length " + length);
        }
        int n = blocksFor(length);
        long[] iovas = new long[n];
        byte[][] blocks = new byte[n][];
        for (int i = 0; i < n; i++) {
            blocks[i] = readBlock(dma, ptr, i, token, false, false);
            iovas[i] = ptr;
            ptr = next(blocks[i]);
        }
        return new OutputChain(iovas, blocks, checksum);
    }

    /** Writes {@code out} beyond its first 16 bytes into the chain checked by {@link #prepareOutput}. */
    void scatter(DmaCommand dma, OutputChain chain, byte[] out) throws DmaFault {
        for (int i = 0; i < chain.iovas.length; i++) {
            int off = 16 + i * DATA_SIZE;
            int len = Math.min(DATA_SIZE, out.length - off);
            byte[] block = chain.blocks[i];
            java.util.Arrays.fill(block, 0, DATA_SIZE, (byte) 0);
            System.arraycopy(out, off, block, 0, len);
            if (chain.checksum) {
                block[RSVD0] = 0;
                block[CTRL_SIG] = (byte) ~xor(block, RSVD0, BLOCK_SIZE - DATA_SIZE - 2);
                block[SIG] = (byte) ~xor(block, 0, BLOCK_SIZE - 1);
                MemorySegment.copy(block, 0, scratch, ValueLayout.JAVA_BYTE, 0, BLOCK_SIZE);
                dma.writeDescriptors(chain.iovas[i], scratch, 0, BLOCK_SIZE);
            } else {
                MemorySegment.copy(block, 0, scratch, ValueLayout.JAVA_BYTE, 0, len);
                dma.writeDescriptors(chain.iovas[i], scratch, 0, len);
            }
        }
    }

    record OutputChain(long[] iovas, byte[][] blocks, boolean checksum) {
    }

    private byte[] readBlock(DmaCommand dma, long ptr, int index, int token, boolean checksum, boolean input)
            throws DeliveryException {
        int lengthErr = input ? MLX5_CMD_DELIVERY_STAT_IN_LENGTH_ERR : MLX5_CMD_DELIVERY_STAT_OUT_LENGTH_ERR;
        int ptrErr = input ? MLX5_CMD_DELIVERY_STAT_IN_PTR_ALIGN_ERR : MLX5_CMD_DELIVERY_STAT_OUT_PTR_ALIGN_ERR;
        String which = input ? "input" : "output";
        if (ptr == 0) {
            throw new DeliveryException(lengthErr, which + " chain ends at block " + index + ", the length needs more");
        }
        if ((ptr & ALIGN_MASK) != 0) {
            throw new DeliveryException(ptrErr, which + " block " + index + " at unaligned 0x" + Long.toHexString(ptr));
        }
        try {
            dma.readDescriptors(ptr, scratch, 0, BLOCK_SIZE);
        } catch (DmaFault f) {
            // the pointer does not translate: the driver maps this status to -EFAULT (bad address)
            throw new DeliveryException(ptrErr, which + " block " + index + " unmapped: " + f.getMessage());
        }
        byte[] block = scratch.toArray(ValueLayout.JAVA_BYTE);
        int num = (block[BLOCK_NUM] & 0xff) << 24 | (block[BLOCK_NUM + 1] & 0xff) << 16
                | (block[BLOCK_NUM + 2] & 0xff) << 8 | (block[BLOCK_NUM + 3] & 0xff);
        if (num != index) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_BAD_BLK_NUM_ERR,
                    which + " block " + index + " says block_num " + num);
        }
        if ((block[TOKEN] & 0xff) != token) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_TOK_ERR,
                    which + " block " + index + " token " + (block[TOKEN] & 0xff) + " != entry token " + token);
        }
        if (checksum && (xor(block, RSVD0, BLOCK_SIZE - DATA_SIZE - 1) != 0xff || xor(block, 0, BLOCK_SIZE) != 0xff)) {
            throw new DeliveryException(MLX5_CMD_DELIVERY_STAT_SIGNAT_ERR, which + " block " + index + " signature");
        }
        return block;
    }

    private static long next(byte[] block) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (block[NEXT + i] & 0xff);
        }
        return v;
    }

    static int xor(byte[] b, int from, int length) {
        int x = 0;
        for (int i = from; i < from + length; i++) {
            x ^= b[i];
        }
        return x & 0xff;
    }
}
