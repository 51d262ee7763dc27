package io.iovalab.nvme;

import io.iovalab.iommu.DmaAccess;
import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.pci.Interrupts;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.RegionHandler;
import io.iovalab.spi.DeviceEvent;
import io.iovalab.spi.DeviceTrace;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import static io.iovalab.nvme.NvmeRegs.*;

/**
 * The controller: registers on the message thread, everything that touches guest memory on one
 * worker thread. A register write only records a value and wakes the worker; CC changes
 * (enable, disable, shutdown) are applied by the worker between commands, so a queue is never
 * torn down under a command in flight.
 */
final class NvmeController implements RegionHandler {
    final NvmeConfig config;
    final List<Namespace> namespaces;
    final long cap;
    private PciFunction function;
    private final DmaAccess dmaAccess;
    private final ThreadFactory threads;
    private Thread worker;
    private volatile boolean running = true;

    // registers written by the message thread
    private volatile int cc;
    private volatile int csts;
    private volatile int aqa;
    private volatile long asq;
    private volatile long acq;
    private volatile int intms;
    final Doorbells doorbells;
    private final DoorbellPolling polling;
    /** SQ tail doorbells that came as messages (trap mode; in mmap mode, writes that missed the mapping) */
    private final AtomicLong doorbellWrites = new AtomicLong();
    /** every doorbell (SQ or CQ) that came as a message */
    private final AtomicLong trappedDoorbellWrites = new AtomicLong();
    private volatile boolean resetRequested;

    // worker state
    final SubmissionQueue[] sqs;
    final CompletionQueue[] cqs;
    int ccApplied;
    DmaCommand ring;
    DmaCommand data;
    final ArrayDeque<Integer> pendingAers = new ArrayDeque<>();
    long dbbufShadow;
    long dbbufEventIdx;
    final NvmeStats stats = new NvmeStats();
    final NvmeFaults faults;
    final HeldCompletions held = new HeldCompletions();
    /** per CQ: when a delayed interrupt is due ({@link System#nanoTime()}), 0 if none */
    final long[] interruptDue;
    final DeviceTrace trace;
    final Features features;
    final InterruptCoalescing coalescing;
    private final MemorySegment sqeBuf = Arena.ofAuto().allocate(Sqe.SIZE, 8);
    private final Sqe sqe = new Sqe(sqeBuf);
    private final AdminCommands admin;
    private final IoCommands io;
    final int allocatedIoQueues;
    private long idleSince;
    private long parkNanos;

    NvmeController(NvmeConfig config, List<Namespace> namespaces, DmaAccess dma, ThreadFactory threads, DeviceTrace trace) {
        this(config, namespaces, dma, threads, trace, new Doorbells.Trapped(config.maxQueues() + 1));
    }

    NvmeController(NvmeConfig config, List<Namespace> namespaces, DmaAccess dma, ThreadFactory threads, DeviceTrace trace,
                   Doorbells doorbells) {
        this.config = config;
        this.namespaces = namespaces;
        this.dmaAccess = dma;
        this.threads = threads;
        this.allocatedIoQueues = config.maxQueues();
        this.sqs = new SubmissionQueue[config.maxQueues() + 1];
        this.cqs = new CompletionQueue[config.maxQueues() + 1];
        this.doorbells = doorbells;
        this.polling = config.polling();
        this.faults = new NvmeFaults(config.maxQueues());
        this.interruptDue = new long[config.maxQueues() + 1];
        this.trace = trace;
        // CAP: MQES, CQR (contiguous queues required), TO = 10 s, DSTRD 0, CSS = NVM, MPSMIN = MPSMAX = 4 KiB
        this.cap = (config.mqes() - 1) | 1L << 16 | 20L << 24 | 1L << 37;
        this.features = new Features(config);
        this.coalescing = new InterruptCoalescing(config.maxQueues() + 1, config.vectors());
        this.admin = new AdminCommands(this);
        this.io = new IoCommands(this);
    }

    void attach(PciFunction f) {
        this.function = f;
        worker = threads.newThread(this::loop);
        worker.start();
    }

    Interrupts interrupts() {
        return function.interrupts();
    }

    // ------------------------------------------------------------------ registers (message thread)

    @Override
    public long read(long offset, int width) {
        int off = (int) offset;
        long v = switch (off & ~3) {
            case CAP -> (int) cap;
            case CAP + 4 -> (int) (cap >>> 32);
            case VS -> VS_1_4;
            case INTMS, INTMC -> intms;
            case CC -> cc;
            case CSTS -> csts;
            case AQA -> aqa;
            case ASQ -> (int) asq;
            case ASQ + 4 -> (int) (asq >>> 32);
            case ACQ -> (int) acq;
            case ACQ + 4 -> (int) (acq >>> 32);
            default -> 0;
        } & 0xffffffffL;
        if (width == 8 && (off & 7) == 0) {
            v |= read(offset + 4, 4) << 32;
        }
        return width == 8 ? v : (v >>> (8 * (off & 3))) & ((1L << (8 * Math.min(width, 4))) - 1);
    }

    @Override
    public void write(long offset, int width, long value) {
        int off = (int) offset;
        if (width == 8) {
            write(offset, 4, value & 0xffffffffL);
            write(offset + 4, 4, value >>> 32);
            return;
        }
        int v = (int) value;
        if (off >= DOORBELLS) {
            doorbell(off, v);
            return;
        }
        switch (off) {
            case INTMS -> {
                intms |= v;
            }
            case INTMC -> {
                intms &= ~v;
                wake();
            }
            case CC -> {
                cc = v;
                wake();
            }
            case AQA -> aqa = v;
            case ASQ -> asq = (asq & ~0xffffffffL) | (v & 0xffffffffL);
            case ASQ + 4 -> asq = (asq & 0xffffffffL) | ((long) v << 32);
            case ACQ -> acq = (acq & ~0xffffffffL) | (v & 0xffffffffL);
            case ACQ + 4 -> acq = (acq & 0xffffffffL) | ((long) v << 32);
            case NSSR -> {
                // NVM Subsystem Reset is not supported (CAP.NSSRS = 0): writes are ignored
            }
            default -> {
            }
        }
    }

    private void doorbell(int off, int value) {
        int idx = (off - DOORBELLS) / 4;
        int qid = idx / 2;
        if ((off & 3) != 0 || qid >= sqs.length) {
            return;
        }
        doorbells.store(qid, (idx & 1) != 0, value);
        countTrapped(idx);
        wake();
    }

    /** A doorbell written by message into the mmapped page (QEMU could not map it): already stored, just wake. */
    @Override
    public void mmapAreaWritten(long offset, int width, long value) {
        if (offset >= DOORBELLS && offset < DOORBELLS + 8L * sqs.length) {
            countTrapped((int) (offset - DOORBELLS) / 4);
        }
        wake();
    }

    private void countTrapped(int idx) {
        trappedDoorbellWrites.incrementAndGet();
        if ((idx & 1) == 0) {
            doorbellWrites.incrementAndGet();
        }
    }

    /**
     * A queue being created starts from doorbell 0: a value written to the doorbell of a queue
     * that did not exist yet is an invalid doorbell write, not commands to run.
     */
    void clearDoorbell(int qid, boolean submission) {
        doorbells.store(qid, !submission, 0);
    }

    /** CC, CSTS and INTMS as the host would read them, for inspection. */
    int[] registers() {
        return new int[] {cc, csts, intms};
    }

    long doorbellWrites() {
        return doorbellWrites.get();
    }

    long trappedDoorbellWrites() {
        return trappedDoorbellWrites.get();
    }

    /** The worker thread, for a benchmark that measures its CPU time. */
    Thread worker() {
        return worker;
    }

    private void wake() {
        Thread w = worker;
        if (w != null) {
            LockSupport.unpark(w);
        }
    }

    // ------------------------------------------------------------------ worker

    private void loop() {
        ring = dmaAccess.newCommand();
        data = dmaAccess.newCommand();
        while (running) {
            try {
                serve();
            } catch (RuntimeException e) {
                // a device bug: report it, and leave the guest a controller it can reset (CSTS.CFS)
                // rather than a worker that is gone
                stats.lastError = "internal error: " + e;
                csts |= CSTS_CFS;
                Thread t = Thread.currentThread();
                t.getUncaughtExceptionHandler().uncaughtException(t, e);
            }
        }
    }

    private void serve() {
        while (running) {
            if (resetRequested) {
                disable();
                resetRequested = false;
                synchronized (this) {
                    notifyAll();
                }
            }
            int c = cc;
            if (c != ccApplied) {
                applyCc(c);
            }
            NvmeFaults.Rule fatal = faults.takeFatal();
            if (fatal != null) {
                csts |= CSTS_CFS; // injected: the worker is the only writer of CSTS.CFS
                injected(fatal, -1, -1, "CSTS.CFS set");
            }
            boolean live = (csts & CSTS_RDY) != 0 && (csts & CSTS_CFS) == 0;
            if (live) {
                releaseDue();
            }
            boolean busy = live && processQueues();
            if (busy) {
                idleSince = 0;
                continue;
            }
            boolean polled = doorbells.mode() == Doorbells.Mode.MMAP && live;
            if (polled && spinning()) {
                Thread.onSpinWait();
                continue;
            }
            if ((csts & CSTS_RDY) != 0 && dbbufShadow != 0 && armEventIdx()) {
                continue; // the host moved a tail while we armed: more work
            }
            LockSupport.parkNanos(this, polled ? Math.min(sleepNanos(), nextPark()) : sleepNanos());
        }
    }

    /** True while the worker is still in the spin part of an idle period (mmapped doorbells). */
    private boolean spinning() {
        long now = System.nanoTime();
        if (idleSince == 0) {
            idleSince = now;
            parkNanos = polling.minParkNanos();
        }
        return now - idleSince < polling.spinNanos();
    }

    /** The next park of an idle period: doubling, so a long idle costs few wake-ups. */
    private long nextPark() {
        long p = parkNanos;
        parkNanos = Math.min(parkNanos * 2, polling.maxParkNanos());
        return p;
    }

    private void applyCc(int c) {
        boolean wasEnabled = (ccApplied & CC_EN) != 0;
        boolean enable = (c & CC_EN) != 0;
        if (wasEnabled && !enable) {
            disable();
        } else if (!wasEnabled && enable) {
            stats.enables++;
            enable();
        }
        int shn = (c >>> CC_SHN_SHIFT) & 3;
        if (shn != 0 && ((ccApplied >>> CC_SHN_SHIFT) & 3) == 0) {
            for (Namespace ns : namespaces) {
                try {
                    ns.backend.flush();
                } catch (java.io.IOException ignored) {
                    // shutdown proceeds; the flush failure shows in the next boot's data
                }
            }
            csts = (csts & ~(3 << 2)) | CSTS_SHST_COMPLETE;
        } else if (shn == 0) {
            csts &= ~(3 << 2);
        }
        ccApplied = c;
    }

    private void enable() {
        int asqs = (aqa & 0xfff) + 1;
        int acqs = ((aqa >>> 16) & 0xfff) + 1;
        int mps = (cc >>> 7) & 0xf;
        if (asqs < 2 || acqs < 2 || (asq & 0xfff) != 0 || (acq & 0xfff) != 0 || mps != 0 || asq == 0 || acq == 0) {
            csts |= CSTS_CFS; // the spec's answer to an enable it cannot honour
            return;
        }
        CompletionQueue acq0 = new CompletionQueue(0, acq, acqs, true, 0);
        cqs[0] = acq0;
        sqs[0] = new SubmissionQueue(0, asq, asqs, acq0);
        acq0.sqCount = 1;
        csts = (csts & ~CSTS_CFS) | CSTS_RDY;
    }

    /** Controller reset: queues, pending events, shadow doorbells and features back to defaults. */
    void disable() {
        held.clear(); // a reset aborts everything outstanding; the host requeues it
        java.util.Arrays.fill(interruptDue, 0);
        java.util.Arrays.fill(sqs, null);
        java.util.Arrays.fill(cqs, null);
        doorbells.clear();
        pendingAers.clear();
        dbbufShadow = 0;
        dbbufEventIdx = 0;
        features.reset();
        coalescing.reset();
        csts = 0;
        ccApplied = cc & ~CC_EN;
    }

    /** One pass over all SQs; true if any command was processed. */
    private boolean processQueues() {
        boolean did = false;
        for (int q = 0; q < sqs.length; q++) {
            SubmissionQueue sq = sqs[q];
            if (sq == null) {
                continue;
            }
            refreshTail(sq);
            int budget = sq.size;
            while (sq.head != sq.tail && budget-- > 0) {
                CompletionQueue cq = sq.cq;
                refreshHead(cq);
                if (cq.full()) {
                    stats.cqFull++;
                    break;
                }
                try {
                    ring.start(sq.qid, DmaCommand.NO_COMMAND);
                    ring.readDescriptors(sq.base + (long) sq.head * Sqe.SIZE, sqeBuf, 0, Sqe.SIZE);
                } catch (DmaFault f) {
                    stats.faults++;
                    csts |= CSTS_CFS; // the guest's own SQ memory is unreachable: controller fatal
                    return true;
                } finally {
                    ring.end();
                }
                sq.head = (sq.head + 1) % sq.size;
                sq.commands++;
                stats.commands++;
                execute(sq);
                did = true;
                if (sqs[q] != sq) {
                    break; // the command deleted its own queue (or the controller was reset)
                }
            }
        }
        raisePending();
        return did;
    }

    /** Raises each CQ's pending interrupt unless coalescing holds it a little longer. */
    private void raisePending() {
        long now = 0;
        for (CompletionQueue cq : cqs) {
            if (cq != null && cq.interruptPending) {
                if (now == 0) {
                    now = System.nanoTime();
                }
                if (!coalescing.due(cq, now)) {
                    continue;
                }
                cq.interruptPending = false;
                coalescing.raised(cq);
                raise(cq);
            }
        }
    }

    private void execute(SubmissionQueue sq) {
        int cid = sqe.cid();
        int opcode = sqe.opcode();
        if (trace.enabled()) {
            traceCommand(sq.qid, cid);
        }
        // an AER completes only when an event happens: there is no completion to withhold or fail yet
        NvmeFaults.Rule fault = sq.qid == 0 && opcode == Opcodes.ASYNC_EVENT_REQUEST ? null : faults.onCommand(sq.qid, opcode);
        if (fault != null && fault.kind().equals(NvmeFaults.FAIL_COMMAND)) {
            injected(fault, sq.qid, cid, "not executed, completed with " + Status.name(fault.status));
            stats.errors++;
            post(sq.cq, sq, cid, fault.status, 0);
            return;
        }
        int status;
        int dw0 = 0;
        data.start(sq.qid, cid);
        try {
            long r = sq.qid == 0 ? admin.execute(sqe, sq) : io.execute(sqe);
            if (r == AdminCommands.DEFERRED) {
                return; // an Asynchronous Event Request: completes when an event happens
            }
            dw0 = (int) r;
            status = Status.SUCCESS;
        } catch (NvmeError e) {
            status = e.status;
            stats.errors++;
            stats.lastError = String.format("qid %d cid %d opcode 0x%02x: %s (%s)", sq.qid, cid, opcode,
                    Status.name(status), e.getMessage());
        } catch (DmaFault f) {
            stats.faults++;
            status = Status.DATA_TRANSFER_ERROR;
        } catch (java.io.IOException e) {
            stats.errors++;
            status = Status.INTERNAL_ERROR;
        } catch (RuntimeException e) {
            // a bug here must not take the server down; the guest sees an internal error
            stats.errors++;
            status = Status.INTERNAL_ERROR;
        } finally {
            data.end();
        }
        if (fault != null) {
            // executed, but the host hears nothing (yet): outstanding until due, aborted or reset
            long now = System.nanoTime();
            boolean drop = fault.kind().equals(NvmeFaults.DROP_COMPLETION);
            held.add(new HeldCompletions.Held(sq, cid, opcode, status, dw0, now, drop ? Long.MAX_VALUE : now + fault.nanos,
                    fault.spec.toString()));
            injected(fault, sq.qid, cid, drop ? "completion withheld" : "completion delayed " + fault.nanos / 1_000_000 + " ms");
            return;
        }
        post(sq.cq, sq, cid, status, dw0);
    }

    /** Posts held completions whose delay has run out (their SQ must still be the one they came from). */
    private void releaseDue() {
        if (!held.isEmpty()) { // the common case, checked first: takeDue allocates
            for (HeldCompletions.Held h : held.takeDue(System.nanoTime())) {
                SubmissionQueue sq = sqs[h.sq().qid];
                if (sq != h.sq()) {
                    continue; // the SQ was deleted meanwhile: the command went with it
                }
                if (sq.cq.full()) {
                    held.add(h); // no room until the host consumes; retried on the next pass
                    continue;
                }
                post(sq.cq, sq, h.cid(), h.status(), h.dw0());
            }
        }
        long now = System.nanoTime();
        for (int q = 0; q < interruptDue.length; q++) {
            if (interruptDue[q] != 0 && interruptDue[q] - now <= 0) {
                interruptDue[q] = 0;
                if (cqs[q] != null) {
                    signal(cqs[q]);
                }
            }
        }
    }

    /** How long the idle worker may sleep: until the next delayed completion or interrupt, at most 20 ms. */
    private long sleepNanos() {
        long sleep = TimeUnit.MILLISECONDS.toNanos(20);
        long now = System.nanoTime();
        long next = held.nextDue();
        if (next != Long.MAX_VALUE) {
            sleep = Math.min(sleep, Math.max(0, next - now));
        }
        for (long due : interruptDue) {
            if (due != 0) {
                sleep = Math.min(sleep, Math.max(0, due - now));
            }
        }
        for (CompletionQueue cq : cqs) {
            if (cq != null && cq.interruptPending) {
                sleep = Math.min(sleep, coalescing.untilDue(cq, now));
            }
        }
        return Math.max(sleep, 1);
    }

    /** Writes a completion entry: DW0..2 first, then DW3 with the phase tag. */
    void post(CompletionQueue cq, SubmissionQueue sq, int cid, int status, int dw0) {
        long at = cq.base + (long) cq.tail * 16;
        try {
            ring.start(cq.qid, DmaCommand.NO_COMMAND);
            ring.writeInt(at, dw0);
            ring.writeInt(at + 4, 0);
            ring.writeInt(at + 8, sq.head | sq.qid << 16);
            VarHandle.storeStoreFence();
            ring.writeInt(at + 12, cid | (cq.phase ? 1 : 0) << 16 | status << 17);
        } catch (DmaFault f) {
            stats.faults++;
            csts |= CSTS_CFS;
            return;
        } finally {
            ring.end();
        }
        if (trace.enabled()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("status", String.format("0x%03x", status & 0x7ff));
            f.put("statusName", Status.name(status));
            f.put("dnr", (status & Status.DNR) != 0);
            f.put("dw0", Integer.toUnsignedLong(dw0));
            f.put("sqHead", sq.head);
            f.put("cq", cq.qid);
            f.put("cqSlot", cq.tail);
            trace.emit(DeviceEvent.COMPLETION, sq.qid, cid, f);
        }
        cq.tail = (cq.tail + 1) % cq.size;
        if (cq.tail == 0) {
            cq.phase = !cq.phase;
        }
        if (cq.interruptsEnabled) {
            cq.interruptPending = true;
            coalescing.posted(cq);
        }
    }

    private void raise(CompletionQueue cq) {
        if (interruptDue[cq.qid] != 0) {
            return; // a delayed interrupt for this CQ is still to come and will cover these entries too
        }
        NvmeFaults.Rule fault = faults.onInterrupt(cq.qid);
        if (fault != null) {
            if (fault.kind().equals(NvmeFaults.DROP_INTERRUPT)) {
                injected(fault, cq.qid, -1, "interrupt for CQ " + cq.qid + " (vector " + cq.vector + ") not raised");
            } else {
                interruptDue[cq.qid] = System.nanoTime() + fault.nanos;
                injected(fault, cq.qid, -1, "interrupt for CQ " + cq.qid + " delayed " + fault.nanos / 1_000_000 + " ms");
            }
            return;
        }
        signal(cq);
    }

    private void signal(CompletionQueue cq) {
        Interrupts irq = function.interrupts();
        if (irq.mode() != Interrupts.Mode.MSIX && (intms & (1 << Math.min(cq.vector, 31))) != 0) {
            return; // INTMS masks the vector for INTx and MSI
        }
        stats.interrupts++;
        if (trace.enabled()) {
            trace.emit(DeviceEvent.INTERRUPT, cq.qid, -1, Map.of("vector", cq.vector, "mode", irq.mode().name()));
        }
        irq.signal(cq.vector);
    }

    private void traceCommand(int qid, int cid) {
        Map<String, Object> f = new LinkedHashMap<>();
        f.put("opcode", String.format("0x%02x", sqe.opcode()));
        f.put("name", Opcodes.name(qid == 0, sqe.opcode()));
        f.put("nsid", Integer.toUnsignedLong(sqe.nsid()));
        if (qid != 0 && (sqe.opcode() == Opcodes.READ || sqe.opcode() == Opcodes.WRITE || sqe.opcode() == Opcodes.COMPARE
                || sqe.opcode() == Opcodes.WRITE_ZEROES)) {
            f.put("slba", sqe.slba());
            f.put("nlb", (sqe.dw(12) & 0xffff) + 1);
        }
        if (qid == 0 && sqe.opcode() == Opcodes.ABORT) {
            f.put("abortSqid", sqe.dw(10) & 0xffff);
            f.put("abortCid", sqe.dw(10) >>> 16);
        }
        f.put("dataPointer", sqe.psdt() == 0 ? "PRP" : "SGL");
        trace.emit(DeviceEvent.COMMAND, qid, cid, f);
    }

    /** Counts and traces an injected fault that fired. */
    void injected(NvmeFaults.Rule fault, int queue, int cid, String effect) {
        stats.injections++;
        if (trace.enabled()) {
            Map<String, Object> f = new LinkedHashMap<>();
            f.put("fault", fault.kind());
            f.put("injection", fault.id);
            f.put("spec", fault.spec.toString());
            f.put("effect", effect);
            trace.emit(DeviceEvent.INJECTION, queue, cid, f);
        }
    }

    private void refreshTail(SubmissionQueue sq) {
        if (sq.qid != 0 && dbbufShadow != 0) {
            try {
                ring.start(sq.qid, DmaCommand.NO_COMMAND);
                sq.tail = ring.readInt(dbbufShadow + 8L * sq.qid) & 0xffff;
                ring.end();
            } catch (DmaFault f) {
                stats.faults++;
                sq.tail = doorbells.sqTail(sq.qid);
            }
        } else {
            sq.tail = doorbells.sqTail(sq.qid);
        }
        if (sq.tail >= sq.size) {
            sq.tail = sq.head; // a doorbell past the queue: ignored (Invalid Doorbell Write Value)
            stats.invalidDoorbells++;
        }
    }

    private void refreshHead(CompletionQueue cq) {
        int h;
        if (cq.qid != 0 && dbbufShadow != 0) {
            try {
                ring.start(cq.qid, DmaCommand.NO_COMMAND);
                h = ring.readInt(dbbufShadow + 8L * cq.qid + 4) & 0xffff;
                ring.end();
            } catch (DmaFault f) {
                h = doorbells.cqHead(cq.qid);
            }
        } else {
            h = doorbells.cqHead(cq.qid);
        }
        if (h < cq.size) {
            cq.head = h;
        }
    }

    /**
     * Before sleeping with shadow doorbells on: EventIdx = what we consumed, so the host's next
     * submission rings the MMIO doorbell; then re-read the shadow tails (the host may have
     * written one while we decided to sleep). Returns true if there is more work after all.
     */
    private boolean armEventIdx() {
        boolean more = false;
        try {
            ring.start(0, DmaCommand.NO_COMMAND);
            for (SubmissionQueue sq : sqs) {
                if (sq != null && sq.qid != 0) {
                    ring.writeInt(dbbufEventIdx + 8L * sq.qid, sq.head);
                    ring.writeInt(dbbufEventIdx + 8L * sq.cq.qid + 4, sq.cq.head);
                }
            }
            VarHandle.fullFence();
            for (SubmissionQueue sq : sqs) {
                if (sq != null && sq.qid != 0 && (ring.readInt(dbbufShadow + 8L * sq.qid) & 0xffff) != sq.head) {
                    more = true;
                }
            }
        } catch (DmaFault f) {
            stats.faults++;
        } finally {
            ring.end();
        }
        return more;
    }

    /** Completes one held Asynchronous Event Request, if the host posted one. */
    void asyncEvent(int type, int info, int logPage) {
        Integer cid = pendingAers.poll();
        if (cid != null && sqs[0] != null) {
            post(cqs[0], sqs[0], cid, Status.SUCCESS, type | info << 8 | logPage << 16);
        }
    }

    /** Device reset (FLR, DEVICE_RESET, client gone): the worker tears everything down. */
    void reset() {
        cc = 0;
        intms = 0;
        aqa = 0;
        asq = 0;
        acq = 0;
        resetRequested = true;
        wake();
        synchronized (this) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (resetRequested && System.nanoTime() < deadline) {
                try {
                    wait(50);
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
        try {
            if (worker != null) {
                worker.join(5000);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    MemorySegment scratch(int size) {
        return Arena.ofAuto().allocate(size, 8);
    }

    static void putString(MemorySegment s, long off, int len, String v) {
        byte[] b = v.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        for (int i = 0; i < len; i++) {
            s.set(ValueLayout.JAVA_BYTE, off + i, i < b.length ? b[i] : (byte) ' ');
        }
    }
}
