package io.iovalab.mlx5;

import io.iovalab.iommu.DmaAccess;
import io.iovalab.iommu.DmaCommand;
import io.iovalab.pci.Interrupts;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_EVENT_TYPE_CMD;

/**
 * The device's one worker thread and what it owns: the command queue, the firmware state and the
 * event queues. Register writes on the message thread only record a doorbell and wake it, so
 * guest memory is touched only here, and a reset is applied between commands, never under one.
 */
final class Hca implements CommandQueue.Completion {
    final Mlx5Config config;
    final InitSegment iseg;
    final EqTable eqs;
    final Firmware firmware;
    final CommandQueue cmdq;
    final SendQueues sendQueues;
    private final DmaAccess dmaAccess;
    private final ThreadFactory threads;
    private final AtomicInteger pendingSlots = new AtomicInteger();
    private volatile boolean eqDoorbell;
    private final AtomicBoolean sqDoorbell = new AtomicBoolean();
    /** How soon a send that found no receive posted is tried again (the RNR timer). */
    static final long RNR_RETRY_NANOS = TimeUnit.MICROSECONDS.toNanos(500);
    private long lastRetry;
    /** The first half of a CQ arm doorbell stored as two 32-bit writes: sn/cmd/ci, waiting for the cqn. */
    private volatile int cqArmLow;
    private volatile boolean running = true;
    private volatile boolean resetRequested;
    private Thread worker;
    private DmaCommand cmdDma;
    private DmaCommand eqDma;
    /** Whether the command EQ existed when the command being served was handed to us. */
    private boolean commandEqBefore;
    long cmdEqes;
    long internalErrors;
    String lastInternalError = "";

    Hca(Mlx5Config config, DmaAccess dma, ThreadFactory threads, Supplier<Interrupts> interrupts) {
        this.config = config;
        this.dmaAccess = dma;
        this.threads = threads;
        this.iseg = new InitSegment(config.fwMajor(), config.fwMinor(), config.fwSub(), this::doorbell);
        this.eqs = new EqTable(1 << Caps.LOG_MAX_EQ, interrupts);
        this.firmware = new Firmware(config, eqs);
        this.cmdq = new CommandQueue(iseg, firmware, this);
        this.sendQueues = new SendQueues(firmware, eqs);
        firmware.qpErrored = () -> sqDoorbell.set(true); // a QP moved to ERR by a command: flush its WQEs on the next pass
        firmware.pageFaultResumed = (qp, error) -> {
            sendQueues.pageFaults.resume(qp, error);
            sqDoorbell.set(true);
        };
    }

    void start() {
        worker = threads.newThread(this::loop);
        worker.start();
    }

    // ---- message thread

    private void doorbell(int slots) {
        pendingSlots.getAndUpdate(m -> m | slots);
        wake();
    }

    /** A store into a UAR page (BAR0 beyond the init segment), big-endian value already decoded. */
    void uarWrite(long offset, int width, long value) {
        int pageOffset = (int) (offset & 0xfff);
        if (width == 4 && eqs.doorbell(pageOffset, Integer.reverseBytes((int) value))) {
            eqDoorbell = true;
            wake();
        }
        if (pageOffset == CQ_DOORBELL && width == 8) {
            // mlx5_cq_arm: be32(sn << 28 | cmd | ci) then be32(cqn), one 64-bit store
            sendQueues.arm(Integer.reverseBytes((int) (value >>> 32)) & 0xffffff, Integer.reverseBytes((int) value) & 0xffffff);
            wake();
        } else if (pageOffset == CQ_DOORBELL && width == 4) {
            cqArmLow = Integer.reverseBytes((int) value);
        } else if (pageOffset == CQ_DOORBELL + 4 && width == 4) {
            sendQueues.arm(Integer.reverseBytes((int) value) & 0xffffff, cqArmLow & 0xffffff);
            wake();
        } else if (pageOffset >= SQ_DOORBELLS) {
            // a send doorbell (or a BlueFlame copy of the WQE, which we do not advertise): the
            // doorbell record says which WQEs are new, so the value itself is not needed
            sqDoorbell.set(true);
            wake();
        }
    }

    /** UAR page offsets: the CQ arm doorbell (MLX5_CQ_DOORBELL) and the BlueFlame/doorbell registers (MLX5_BF_OFFSET on). */
    static final int CQ_DOORBELL = 0x20;
    static final int SQ_DOORBELLS = 0x800;

    private void wake() {
        Thread w = worker;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    /** Device reset: the worker drops every object and pending doorbell; waits a bounded time. */
    void reset() {
        iseg.reset();
        pendingSlots.set(0);
        resetRequested = true;
        wake();
        synchronized (this) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (resetRequested && System.nanoTime() < deadline) {
                try {
                    wait(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    void stop() {
        running = false;
        wake();
        if (worker != null) {
            try {
                worker.join(5000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    // ---- worker

    private void loop() {
        cmdDma = dmaAccess.newCommand();
        eqDma = dmaAccess.newCommand();
        firmware.dma = cmdDma;
        while (running) {
            if (resetRequested) {
                synchronized (firmware) {
                    firmware.reset();
                    sendQueues.reset();
                }
                pendingSlots.set(0);
                resetRequested = false;
                synchronized (this) {
                    notifyAll();
                }
            }
            boolean did = false;
            if (eqDoorbell) {
                eqDoorbell = false;
                eqs.serviceArms();
                did = true;
            }
            // taken and cleared in one step: a doorbell stored between a read and a clear would be
            // lost, and its WQEs would wait for a doorbell that never comes (the verbs program too)
            boolean doorbell = sqDoorbell.getAndSet(false);
            boolean retry = !doorbell && sendQueues.waiting() && System.nanoTime() - lastRetry > RNR_RETRY_NANOS;
            if (doorbell || retry || sendQueues.armsPending()) {
                boolean sq = doorbell || retry;
                if (retry) {
                    lastRetry = System.nanoTime();
                }
                synchronized (firmware) { // the QPs, CQs and mkeys are the command handlers' objects
                    eqDma.start(0, DmaCommand.NO_COMMAND);
                    try {
                        sendQueues.serviceArms(eqDma);
                        if (sq) {
                            sendQueues.service(eqDma);
                        }
                        sendQueues.serviceArms(eqDma);
                    } catch (RuntimeException e) {
                        internalErrors++;
                        lastInternalError = e.toString();
                    } finally {
                        eqDma.end();
                    }
                }
                did = true;
            }
            int slots = pendingSlots.getAndSet(0);
            if (slots != 0) {
                for (int slot = 0; slot < 32; slot++) {
                    if ((slots & (1 << slot)) != 0) {
                        synchronized (firmware) { // inspect() reads the firmware state under this lock
                            commandEqBefore = eqs.commandEq() != null;
                            try {
                                cmdq.serve(cmdDma, 1 << slot);
                            } catch (RuntimeException e) {
                                // a bug in the transport must not stop the worker: the slot is lost, the device lives
                                internalErrors++;
                                lastInternalError = e.toString();
                                cmdDma.end();
                            }
                        }
                    }
                }
                did = true;
            }
            if (!did) {
                // a send waiting for its responder's receive is retried without a doorbell (posting a receive rings none)
                LockSupport.parkNanos(this, sendQueues.waiting() ? RNR_RETRY_NANOS : TimeUnit.MILLISECONDS.toNanos(50));
            }
        }
    }

    /**
     * After an entry went back to the driver: from the moment the command EQ exists the driver
     * waits for a CMD EQE instead of polling. The command that created the EQ was polled, and the
     * EQ's own DESTROY is polled too (the driver switches back first and stops listening), so an
     * EQE goes out only when the EQ existed before and after the command.
     */
    @Override
    public void completed(int slotMask) {
        EventQueue eq = eqs.commandEq();
        if (eq == null || !commandEqBefore) {
            return;
        }
        byte[] data = new byte[EventQueue.EQE_DATA_SIZE];
        data[0] = (byte) (slotMask >>> 24);
        data[1] = (byte) (slotMask >>> 16);
        data[2] = (byte) (slotMask >>> 8);
        data[3] = (byte) slotMask;
        eqDma.start(0, DmaCommand.NO_COMMAND);
        try {
            eqs.post(eqDma, eq, MLX5_EVENT_TYPE_CMD, 0, data);
            cmdEqes++;
        } finally {
            eqDma.end();
        }
    }
}
