package io.iovalab.nvme;

import io.iovalab.pci.Bar;
import io.iovalab.pci.MmapArea;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.RegionHandler;
import io.iovalab.spi.Device;
import io.iovalab.spi.FaultInjector;
import io.iovalab.spi.SharedMemory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The PCI function around the controller: class 01/08/02, BAR0 registers + doorbells, MSI-X in BAR4. */
final class NvmeDevice implements Device {
    static final int DEVICE_ID = 0x11fd; // under the QEMU/Red Hat vendor id, unassigned there; Linux binds by class
    private final NvmeController controller;
    private final PciFunction function;

    static final int BAR0_SIZE = 16384;

    NvmeDevice(NvmeController controller) {
        this(controller, null);
    }

    /**
     * {@code doorbellPage}: BAR0-sized shared memory whose page at 0x1000 is offered for mmap
     * (doorbells=mmap); the registers page stays trapped, so CC, AQA and friends still reach the
     * controller as messages. Null: every doorbell is trapped.
     */
    NvmeDevice(NvmeController controller, SharedMemory doorbellPage) {
        this.controller = controller;
        int vectors = controller.config.vectors();
        Bar bar0 = Bar.memory64(BAR0_SIZE, false, controller);
        if (doorbellPage != null) {
            bar0 = bar0.withMmap(doorbellPage, List.of(new MmapArea(NvmeRegs.DOORBELLS, 0x1000)));
        }
        // QEMU without KVM's resamplefd (TCG) unmaps a device's BARs on each INTx it delivers and
        // maps them again only when INTx is disabled: doorbells would turn into messages during
        // the driver's INTx phase. Without an INTx pin the driver goes to MSI-X from the start.
        int intxPin = doorbellPage != null ? 0 : 1;
        this.function = PciFunction.builder()
                .vendorId(Identify.VENDOR).deviceId(DEVICE_ID).subsystem(Identify.VENDOR, DEVICE_ID)
                .classCode(0x01, 0x08, 0x02).revision(2).interruptPin(intxPin)
                .bar(0, bar0)
                .bar(4, Bar.memory32(16384, RegionHandler.NONE))
                .powerManagement()
                .msix(vectors, 4, 0, 4, 0x2000)
                .pcieEndpoint(true)
                .build();
        controller.attach(function);
    }

    @Override
    public PciFunction function() {
        return function;
    }

    @Override
    public void reset(ResetReason reason) {
        controller.reset();
    }

    @Override
    public Map<String, Object> inspect() {
        NvmeStats s = controller.stats;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("reads", s.reads);
        m.put("writes", s.writes);
        m.put("flushes", s.flushes);
        m.put("fuaWrites", s.fuaWrites);
        m.put("bytesRead", s.bytesRead);
        m.put("bytesWritten", s.bytesWritten);
        m.put("prpCommands", s.prpCommands);
        m.put("sglCommands", s.sglCommands);
        m.put("errors", s.errors);
        m.put("lastError", s.lastError);
        m.put("faults", s.faults);
        m.put("interrupts", s.interrupts);
        m.put("cqFull", s.cqFull);
        m.put("doorbells", controller.doorbells.mode().name().toLowerCase(java.util.Locale.ROOT));
        m.put("mmioSqDoorbells", controller.doorbellWrites());
        m.put("trappedDoorbellWrites", controller.trappedDoorbellWrites());
        m.put("commands", s.commands);
        m.put("injections", s.injections);
        m.put("aborts", s.aborts);
        m.put("enables", s.enables);
        int[] regs = controller.registers();
        m.put("cc", String.format("0x%08x", regs[0]));
        m.put("csts", String.format("0x%08x", regs[1]));
        m.put("fatal", (regs[1] & NvmeRegs.CSTS_CFS) != 0);
        m.put("interruptMode", function.interrupts().mode().name());
        m.put("intms", String.format("0x%08x", regs[2]));
        // read racily from the worker's state: a snapshot for a person, not for arithmetic
        long now = System.nanoTime();
        List<HeldCompletions.Held> held = controller.held.snapshot();
        List<Map<String, Object>> queues = new ArrayList<>();
        for (SubmissionQueue sq : controller.sqs) {
            if (sq == null) {
                continue;
            }
            CompletionQueue cq = sq.cq;
            Map<String, Object> q = new LinkedHashMap<>();
            q.put("qid", sq.qid);
            q.put("size", sq.size);
            q.put("head", sq.head);
            q.put("tail", sq.tail);
            q.put("commands", sq.commands);
            q.put("cq", cq.qid);
            q.put("cqHead", cq.head);
            q.put("cqTail", cq.tail);
            q.put("phase", cq.phase ? 1 : 0);
            q.put("vector", cq.vector);
            q.put("interruptsEnabled", cq.interruptsEnabled);
            q.put("interruptDelayed", controller.interruptDue[cq.qid] != 0);
            List<Map<String, Object>> outstanding = new ArrayList<>();
            for (HeldCompletions.Held h : held) {
                if (h.sq() == sq) {
                    outstanding.add(outstanding(h.cid(), Opcodes.name(sq.qid == 0, h.opcode()), now - h.heldAtNanos(), h.fault()));
                }
            }
            q.put("outstanding", outstanding);
            if (sq.qid == 0) {
                // AERs wait for an event by design; their ids live in a worker-only deque
                q.put("asyncEventRequests", controller.pendingAers.size());
            }
            queues.add(q);
        }
        m.put("shadowDoorbells", controller.dbbufShadow != 0);
        m.put("queues", queues);
        return m;
    }

    private static Map<String, Object> outstanding(int cid, String opcode, long ageNanos, String fault) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("cid", cid);
        o.put("opcode", opcode);
        if (ageNanos >= 0) {
            o.put("ageMillis", ageNanos / 1_000_000);
        }
        if (fault != null) {
            o.put("heldBy", fault);
        }
        return o;
    }

    @Override
    public FaultInjector faultInjector() {
        return controller.faults;
    }

    @Override
    public void close() {
        controller.stop();
        for (Namespace ns : controller.namespaces) {
            ns.backend.close();
        }
    }

}
