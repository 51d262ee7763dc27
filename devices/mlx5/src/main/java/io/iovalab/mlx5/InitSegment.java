package io.iovalab.mlx5;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;

/**
 * The initialization segment at BAR0 offset 0 ({@code struct mlx5_init_seg}, device.h): what the
 * driver reads before any command can run. Every field is big-endian; the framework hands us
 * little-endian accesses of 1-8 bytes, so this class thinks in big-endian dwords and converts at
 * the edge. Runs on the message thread: nothing here touches guest memory.
 */
final class InitSegment {
    static final int FW_REV = 0x000;
    static final int CMDIF_REV_FW_SUB = 0x004;
    static final int CMDQ_ADDR_H = 0x010;
    static final int CMDQ_ADDR_L_SZ = 0x014;
    static final int CMD_DBELL = 0x018;
    static final int INITIALIZING = 0x1fc;
    static final int HEALTH = 0x200;
    static final int HEALTH_FW_VER = 0x230;
    static final int CMD_EXEC_TO = 0xff8;
    static final int CMD_Q_INIT_TO = 0xffc;
    static final int INTERNAL_TIMER_H = 0x1000;
    static final int INTERNAL_TIMER_L = 0x1004;
    static final int HEALTH_COUNTER = 0x1010;
    /** The segment spans pages 0..2 (up to clr_intx at 0x200c); UAR index 3 is the first free page. */
    static final int SIZE = 0x3000;

    /** cmdif_rev the 7.3 driver insists on (CMD_IF_REV, cmd.c). */
    static final int CMD_IF_REV = 5;
    /** 32 slots of 64 bytes: one 2 KiB block inside the driver's 4 KiB command page. */
    static final int LOG_CMDQ_SIZE = 5;
    static final int LOG_CMDQ_STRIDE = 6;
    /** Reads of {@code initializing} that still show bit 31 after a reset: the driver's wait_fw_init loop runs. */
    static final int INITIALIZING_READS = 2;

    private final int fwMajor;
    private final int fwMinor;
    private final int fwSub;
    private final IntConsumer doorbell;
    private volatile int cmdqAddrH;
    private volatile int cmdqAddrL;
    private volatile int nicInterface;
    private final AtomicInteger initializingReads = new AtomicInteger();
    private final AtomicInteger healthCounter = new AtomicInteger();
    private final AtomicLong doorbells = new AtomicLong();
    private final long timerBase = System.nanoTime();

    InitSegment(int fwMajor, int fwMinor, int fwSub, IntConsumer doorbell) {
        this.fwMajor = fwMajor;
        this.fwMinor = fwMinor;
        this.fwSub = fwSub;
        this.doorbell = doorbell;
        reset();
    }

    void reset() {
        cmdqAddrH = 0;
        cmdqAddrL = 0;
        nicInterface = 0;
        initializingReads.set(INITIALIZING_READS);
    }

    /** The command queue's IOVA as the driver last wrote it (low 12 bits are size fields, not address). */
    long cmdqAddress() {
        return (long) cmdqAddrH << 32 | (cmdqAddrL & 0xfffff000L);
    }

    int logCmdqSize() {
        return LOG_CMDQ_SIZE;
    }

    int logCmdqStride() {
        return LOG_CMDQ_STRIDE;
    }

    int nicInterface() {
        return nicInterface;
    }

    long doorbells() {
        return doorbells.get();
    }

    int healthCounter() {
        return healthCounter.get();
    }

    /** The big-endian dword at {@code off} (4-aligned), with read side effects. */
    int readDword(int off) {
        return switch (off) {
            case FW_REV -> fwMinor << 16 | fwMajor;
            case CMDIF_REV_FW_SUB -> CMD_IF_REV << 16 | fwSub;
            case CMDQ_ADDR_H -> cmdqAddrH;
            // bits 10:8 nic_interface: 0 = up; the driver treats 1 (disabled) and 7 (sw reset) as fatal
            case CMDQ_ADDR_L_SZ -> (cmdqAddrL & 0xfffff000) | (nicInterface & 7) << 8 | LOG_CMDQ_SIZE << 4 | LOG_CMDQ_STRIDE;
            // bit 31 "initializing": set for the first reads after reset, as firmware that is still booting
            case INITIALIZING -> initializingReads.getAndUpdate(n -> Math.max(0, n - 1)) > 0 ? 1 << 31 : 0;
            // the health poll (every 2 s) declares the device dead if this stops moving
            case HEALTH_COUNTER -> healthCounter.incrementAndGet();
            case INTERNAL_TIMER_H -> (int) (timer() >>> 32);
            case INTERNAL_TIMER_L -> (int) timer();
            // 0 = use the driver's default timeouts; non-zero would make it ask for the DTOR register
            case CMD_EXEC_TO, CMD_Q_INIT_TO -> 0;
            default -> 0; // health syndromes, fw_ver in health (must not be ~0), clock: all zero
        };
    }

    private long timer() {
        return System.nanoTime() - timerBase;
    }

    void writeDword(int off, int value) {
        switch (off) {
            case CMDQ_ADDR_H -> cmdqAddrH = value;
            case CMDQ_ADDR_L_SZ -> {
                // the driver writes the low address (4 KiB aligned) and, on reset paths, nic_interface;
                // log_sz/log_stride are read-only
                cmdqAddrL = value & 0xfffff000;
                nicInterface = (value >>> 8) & 7;
            }
            case CMD_DBELL -> {
                doorbells.incrementAndGet();
                doorbell.accept(value);
            }
            default -> {
                // read-only or unused
            }
        }
    }

    // ---- little-endian accesses of the framework <-> big-endian dwords

    /** A read of 1-8 bytes; each dword it covers is read once (its side effects happen once). */
    long readAccess(long offset, int width) {
        int off = (int) offset;
        long v = 0;
        int dwordOff = -1;
        int dword = 0;
        for (int i = 0; i < width; i++) {
            int b = off + i;
            if ((b & ~3) != dwordOff) {
                dwordOff = b & ~3;
                dword = readDword(dwordOff);
            }
            v |= (long) ((dword >>> (8 * (3 - (b & 3)))) & 0xff) << (8 * i);
        }
        return v;
    }

    void writeAccess(long offset, int width, long value) {
        int off = (int) offset;
        if (width == 8 && (off & 7) == 0) {
            writeDword(off, Integer.reverseBytes((int) value));
            writeDword(off + 4, Integer.reverseBytes((int) (value >>> 32)));
            return;
        }
        if (width == 4 && (off & 3) == 0) {
            writeDword(off, Integer.reverseBytes((int) value));
            return;
        }
        // a narrow write lands in one dword: merge it into what the dword holds (no read side effects)
        int base = off & ~3;
        int current = base == CMDQ_ADDR_H ? cmdqAddrH : base == CMDQ_ADDR_L_SZ ? cmdqAddrL | (nicInterface & 7) << 8 : 0;
        for (int i = 0; i < width; i++) {
            int shift = 8 * (3 - ((off + i) & 3));
            current = (current & ~(0xff << shift)) | (int) ((value >>> (8 * i)) & 0xff) << shift;
        }
        writeDword(base, current);
    }
}
