package io.iovalab.example;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.pci.Interrupts;
import io.iovalab.spi.DeviceContext;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import static io.iovalab.example.DmaCopyRegs.*;

/**
 * The copy worker: one device thread, one {@link DmaCommand} handle reused for every copy.
 *
 * <p>A reset bumps the generation: a copy started before it moves no more data once the reset
 * has returned and publishes neither status nor interrupt. The worker holds {@code transfer}
 * around each chunk, so reset waits for at most one chunk in flight.
 */
final class CopyEngine implements AutoCloseable {
    /** One GO: the registers as they were when GO was written. */
    record Copy(long src, long dst, int len, boolean irq, int vector) {
    }

    private static final int CHUNK = 64 * 1024;
    private static final long RESET_WAIT_SECONDS = 2;

    private final DeviceContext context;
    private final ExecutorService worker;
    private final ReentrantLock transfer = new ReentrantLock();
    private final byte[] buffer = new byte[CHUNK];   // worker thread only
    private DmaCommand command;                      // worker thread only
    private volatile Interrupts interrupts;

    // guarded by this
    private long generation;
    private int status;
    private int completed;
    private int started;
    private long faultIova;

    CopyEngine(DeviceContext context) {
        this.context = context;
        this.worker = Executors.newSingleThreadExecutor(context.threads("copy"));
    }

    void attach(Interrupts irq) {
        interrupts = irq;
    }

    /** Starts a copy unless one is running (a GO while BUSY is ignored). Message thread. */
    synchronized void start(Copy c) {
        if ((status & STATUS_BUSY) != 0) {
            return;
        }
        status = STATUS_BUSY;
        long gen = generation;
        int id = started++ & 0x7fff_ffff;
        worker.execute(() -> run(c, gen, id));
    }

    private void run(Copy c, long gen, int commandId) {
        if (command == null) {
            command = context.dma().newCommand();
        }
        int result = STATUS_DONE;
        long fault = 0;
        command.start(0, commandId);
        try {
            if (c.len() < 0 || c.len() > MAX_LEN) {
                result = STATUS_ERROR | KIND_BAD_LENGTH << STATUS_KIND_SHIFT;
            } else {
                for (int off = 0; off < c.len(); off += CHUNK) {
                    if (!copyChunk(c, off, Math.min(CHUNK, c.len() - off), gen)) {
                        return;
                    }
                }
            }
        } catch (DmaFault f) {
            fault = f.fault().faultIova();
            result = STATUS_ERROR | (f.fault().kind().ordinal() + 1) << STATUS_KIND_SHIFT;
        } finally {
            command.end();
        }
        finish(c, gen, commandId, result, fault);
    }

    /** False if a reset overtook the copy. */
    private boolean copyChunk(Copy c, int off, int n, long gen) throws DmaFault {
        transfer.lock();
        try {
            if (!current(gen)) {
                return false;
            }
            command.read(c.src() + off, buffer, 0, n);
            if (!current(gen)) {
                return false; // reset while the read was in flight (a slow DMA_READ): write nothing
            }
            command.write(c.dst() + off, buffer, 0, n);
            return true;
        } finally {
            transfer.unlock();
        }
    }

    private synchronized boolean current(long gen) {
        return gen == generation;
    }

    private synchronized void finish(Copy c, long gen, int commandId, int result, long fault) {
        if (gen != generation) {
            return;
        }
        status = result;
        if (result == STATUS_DONE) {
            completed++;
        } else {
            faultIova = fault; // 0 for a bad LEN: nothing was refused
        }
        if (context.trace().enabled()) {
            // after STATUS changed: a session replay dispatches the next GO only once it has seen this
            context.trace().emit(io.iovalab.spi.DeviceEvent.COMPLETION, 0, commandId,
                    java.util.Map.of("status", String.format("0x%x", result)));
        }
        Interrupts irq = interrupts;
        if (c.irq() && irq != null) {
            irq.signal(c.vector());
        }
    }

    synchronized int status() {
        return status;
    }

    /** STATUS is write-1-to-clear for DONE and ERROR; clearing ERROR clears the fault kind too. */
    synchronized void clearStatus(int bits) {
        int clear = bits & (STATUS_DONE | STATUS_ERROR);
        if ((clear & STATUS_ERROR) != 0) {
            clear |= 0xff << STATUS_KIND_SHIFT;
        }
        status &= ~clear;
    }

    synchronized int completed() {
        return completed;
    }

    synchronized long faultIova() {
        return faultIova;
    }

    /** Abandons the running copy and clears STATUS, COUNT and FAULT. Message thread. */
    void reset() {
        synchronized (this) {
            generation++;
            status = 0;
            completed = 0;
            faultIova = 0;
        }
        boolean quiet = false;
        try {
            // a chunk is a local copy or one DMA_READ/WRITE round trip; after this, no further chunk starts
            quiet = transfer.tryLock(RESET_WAIT_SECONDS, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            if (quiet) {
                transfer.unlock();
            }
        }
    }

    @Override
    public void close() {
        synchronized (this) {
            generation++;
        }
        worker.shutdownNow();
    }
}
