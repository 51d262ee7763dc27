package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.pci.Interrupts;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Supplier;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_EVENT_TYPE_CMD;

/**
 * The event queues by number. EQ numbers stay below 256 because the doorbell carries
 * {@code eqn << 24 | ci}. The worker creates, destroys and posts; the message thread only looks
 * an EQ up to record a doorbell, hence the atomic array.
 */
final class EqTable {
    static final int MAX_EQS = 256;
    /** UAR page offsets of the EQ doorbells (MLX5_EQ_DOORBELL_OFFSET, and +8 for update-ci without arm). */
    static final int DOORBELL_ARM = 0x40;
    static final int DOORBELL_UPDATE_CI = 0x48;

    private final AtomicReferenceArray<EventQueue> eqs = new AtomicReferenceArray<>(MAX_EQS);
    private final Supplier<Interrupts> interrupts;
    final int maxEqs;
    long doorbells;
    long strayDoorbells;

    EqTable(int maxEqs, Supplier<Interrupts> interrupts) {
        this.maxEqs = Math.min(maxEqs, MAX_EQS);
        this.interrupts = interrupts;
    }

    /** Lowest free EQ number, or -1. */
    int freeNumber() {
        for (int i = 0; i < maxEqs; i++) {
            if (eqs.get(i) == null) {
                return i;
            }
        }
        return -1;
    }

    void add(EventQueue eq) {
        eqs.set(eq.eqn, eq);
    }

    EventQueue get(int eqn) {
        return eqn >= 0 && eqn < MAX_EQS ? eqs.get(eqn) : null;
    }

    EventQueue remove(int eqn) {
        return eqs.getAndSet(eqn, null);
    }

    void destroyAll() {
        for (int i = 0; i < MAX_EQS; i++) {
            eqs.set(i, null);
        }
    }

    List<EventQueue> all() {
        List<EventQueue> l = new ArrayList<>();
        for (int i = 0; i < MAX_EQS; i++) {
            EventQueue eq = eqs.get(i);
            if (eq != null) {
                l.add(eq);
            }
        }
        return l;
    }

    /** The EQ that takes command completions, if the driver created one. */
    EventQueue commandEq() {
        for (int i = 0; i < MAX_EQS; i++) {
            EventQueue eq = eqs.get(i);
            if (eq != null && eq.wants(MLX5_EVENT_TYPE_CMD)) {
                return eq;
            }
        }
        return null;
    }

    /** A 32-bit big-endian store into a UAR page (message thread). Returns true if it was an EQ doorbell. */
    boolean doorbell(int pageOffset, int value) {
        if (pageOffset != DOORBELL_ARM && pageOffset != DOORBELL_UPDATE_CI) {
            return false;
        }
        doorbells++;
        EventQueue eq = get(value >>> 24);
        if (eq == null) {
            strayDoorbells++;
            return true;
        }
        eq.doorbell(value & 0xffffff, pageOffset == DOORBELL_ARM);
        return true;
    }

    /** Posts one event to {@code eq} and interrupts if it is armed. Worker only. */
    void post(DmaCommand dma, EventQueue eq, int type, int subType, byte[] data) {
        eq.post(dma, type, subType, data);
        fire(eq);
    }

    /** Raises the vectors of armed EQs that hold unconsumed entries (after an arm doorbell). Worker only. */
    void serviceArms() {
        for (int i = 0; i < MAX_EQS; i++) {
            EventQueue eq = eqs.get(i);
            if (eq != null && eq.armed()) {
                fire(eq);
            }
        }
    }

    private void fire(EventQueue eq) {
        if (eq.takeInterrupt()) {
            Interrupts irq = interrupts.get();
            if (irq != null) {
                irq.signal(eq.vector);
            }
        }
    }
}
