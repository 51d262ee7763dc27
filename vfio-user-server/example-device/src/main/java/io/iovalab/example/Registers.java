package io.iovalab.example;

import io.iovalab.pci.RegionHandler;

import static io.iovalab.example.DmaCopyRegs.*;

/**
 * BAR0, on the message thread: records register writes and hands a GO to the {@link CopyEngine};
 * it never touches guest memory itself.
 */
final class Registers implements RegionHandler {
    private final CopyEngine engine;

    // guarded by this
    private int scratch;
    private long src;
    private long dst;
    private int len;
    private int ctrl;

    Registers(CopyEngine engine) {
        this.engine = engine;
    }

    @Override
    public long read(long offset, int width) {
        if (width == 8) {
            return read(offset, 4) | read(offset + 4, 4) << 32;
        }
        int shift = (int) (offset & 3) * 8;
        return (register((int) offset & ~3) & 0xffffffffL) >>> shift & (width == 4 ? 0xffffffffL : (1L << 8 * width) - 1);
    }

    private synchronized int register(int reg) {
        return switch (reg) {
            case ID -> ID_VALUE;
            case VERSION -> VERSION_VALUE;
            case SCRATCH -> scratch;
            case SRC_LO -> (int) src;
            case SRC_HI -> (int) (src >>> 32);
            case DST_LO -> (int) dst;
            case DST_HI -> (int) (dst >>> 32);
            case LEN -> len;
            case CTRL -> ctrl;
            case STATUS -> engine.status();
            case COUNT -> engine.completed();
            case FAULT_LO -> (int) engine.faultIova();
            case FAULT_HI -> (int) (engine.faultIova() >>> 32);
            default -> 0;
        };
    }

    /** Accesses are naturally aligned (the framework promises it), so a narrow one stays in one register. */
    @Override
    public void write(long offset, int width, long value) {
        if (width == 8) {
            write(offset, 4, value & 0xffffffffL);
            write(offset + 4, 4, value >>> 32);
            return;
        }
        int shift = (int) (offset & 3) * 8;
        int mask = (width == 4 ? -1 : (1 << 8 * width) - 1) << shift;
        int bits = (int) (value << shift) & mask;
        write((int) offset & ~3, mask, bits);
    }

    private synchronized void write(int reg, int mask, int bits) {
        switch (reg) {
            case SCRATCH -> scratch = merge(scratch, mask, bits);
            case SRC_LO -> src = (src & ~0xffffffffL) | (merge((int) src, mask, bits) & 0xffffffffL);
            case SRC_HI -> src = (src & 0xffffffffL) | (long) merge((int) (src >>> 32), mask, bits) << 32;
            case DST_LO -> dst = (dst & ~0xffffffffL) | (merge((int) dst, mask, bits) & 0xffffffffL);
            case DST_HI -> dst = (dst & 0xffffffffL) | (long) merge((int) (dst >>> 32), mask, bits) << 32;
            case LEN -> len = merge(len, mask, bits);
            case CTRL -> {
                ctrl = merge(ctrl, mask, bits) & ~CTRL_GO;
                if ((bits & CTRL_GO) != 0) {
                    engine.start(new CopyEngine.Copy(src, dst, len, (ctrl & CTRL_IRQ_ENABLE) != 0,
                            ctrl >>> CTRL_VECTOR_SHIFT & CTRL_VECTOR_MASK));
                }
            }
            case STATUS -> engine.clearStatus(bits);
            default -> {
                // read-only or unused: ignored, as hardware does
            }
        }
    }

    private static int merge(int old, int mask, int bits) {
        return (old & ~mask) | bits;
    }

    synchronized int scratch() {
        return scratch;
    }

    synchronized void reset() {
        scratch = 0;
        src = 0;
        dst = 0;
        len = 0;
        ctrl = 0;
    }
}
