package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One event queue: a ring of 64-byte {@code struct mlx5_eqe} (device.h) in guest pages given by
 * CREATE_EQ. The driver sets every owner bit to 1 and takes an entry when its owner bit equals
 * the wrap parity of its consumer index, so we write owner = (producer >> log_size) & 1, last.
 * The consumer index and the arm come from doorbell writes to a UAR page (message thread);
 * entries and interrupts are the worker's. One interrupt per arm: an armed EQ with unconsumed
 * entries fires its MSI-X vector once and disarms.
 */
final class EventQueue {
    static final int EQE_SIZE = 64;
    static final int EQE_TYPE = 0x01;
    static final int EQE_SUB_TYPE = 0x03;
    static final int EQE_DATA = 0x20;
    static final int EQE_DATA_SIZE = 28;
    static final int EQE_OWNER = 0x3f;

    final int eqn;
    final int logSize;
    final long pageSize;
    final long[] pas;
    final int vector;
    final long[] eventMask;
    final int uarPage;
    /** Entries written (worker only). */
    long producer;
    /** Consumer index from the last doorbell, 24 bits (message thread writes, worker reads). */
    volatile int consumer;
    private final AtomicBoolean armed = new AtomicBoolean();
    long events;
    long overruns;
    long interrupts;
    long faults;
    private final MemorySegment eqe = Arena.ofAuto().allocate(EQE_SIZE, 8);

    EventQueue(int eqn, int logSize, int logPageSize, long[] pas, int vector, long[] eventMask, int uarPage) {
        this.eqn = eqn;
        this.logSize = logSize;
        this.pageSize = 4096L << logPageSize;
        this.pas = pas;
        this.vector = vector;
        this.eventMask = eventMask;
        this.uarPage = uarPage;
    }

    int size() {
        return 1 << logSize;
    }

    boolean wants(int eventType) {
        return eventType >= 0 && eventType < 256 && (eventMask[eventType >>> 6] & (1L << (eventType & 63))) != 0;
    }

    /** Doorbell write of the driver (message thread): new consumer index, and maybe an arm request. */
    void doorbell(int ci, boolean arm) {
        consumer = ci & 0xffffff;
        if (arm) {
            armed.set(true);
        }
    }

    boolean armed() {
        return armed.get();
    }

    private long pending() {
        return (producer - consumer) & 0xffffff;
    }

    /**
     * Writes one EQE. A full ring is an overrun: the entry is dropped and counted (hardware would
     * raise an EQ overrun error; the driver sizes its EQs so this does not happen).
     */
    boolean post(DmaCommand dma, int type, int subType, byte[] data) {
        if (pending() >= size()) {
            overruns++;
            return false;
        }
        long index = producer & (size() - 1);
        long byteOff = index * EQE_SIZE;
        long iova = pas[(int) (byteOff / pageSize)] + byteOff % pageSize;
        eqe.fill((byte) 0);
        eqe.set(java.lang.foreign.ValueLayout.JAVA_BYTE, EQE_TYPE, (byte) type);
        eqe.set(java.lang.foreign.ValueLayout.JAVA_BYTE, EQE_SUB_TYPE, (byte) subType);
        MemorySegment.copy(data, 0, eqe, java.lang.foreign.ValueLayout.JAVA_BYTE, EQE_DATA, Math.min(EQE_DATA_SIZE, data.length));
        byte owner = (byte) ((producer >>> logSize) & 1);
        try {
            dma.writeDescriptors(iova, eqe, 0, EQE_OWNER);
            VarHandle.storeStoreFence(); // the entry before its owner bit
            dma.writeByte(iova + EQE_OWNER, owner);
        } catch (DmaFault f) {
            faults++;
            return false;
        }
        producer++;
        events++;
        return true;
    }

    /** If armed and something is unconsumed: disarm and return true (the caller raises the vector). */
    boolean takeInterrupt() {
        if (pending() != 0 && armed.compareAndSet(true, false)) {
            interrupts++;
            return true;
        }
        return false;
    }
}
