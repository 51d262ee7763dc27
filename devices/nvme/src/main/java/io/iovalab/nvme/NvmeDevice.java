package io.iovalab.nvme;

import io.iovalab.pci.Bar;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.RegionHandler;
import io.iovalab.spi.Device;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The PCI function around the controller: class 01/08/02, BAR0 registers + doorbells, MSI-X in BAR4. */
final class NvmeDevice implements Device {
    static final int DEVICE_ID = 0x11fd; // under the QEMU/Red Hat vendor id, unassigned there; Linux binds by class
    private final NvmeController controller;
    private final PciFunction function;

    NvmeDevice(NvmeController controller) {
        this.controller = controller;
        int vectors = controller.config.vectors();
        this.function = PciFunction.builder()
                .vendorId(Identify.VENDOR).deviceId(DEVICE_ID).subsystem(Identify.VENDOR, DEVICE_ID)
                .classCode(0x01, 0x08, 0x02).revision(2).interruptPin(1)
                .bar(0, Bar.memory64(16384, false, controller))
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
        m.put("bytesRead", s.bytesRead);
        m.put("bytesWritten", s.bytesWritten);
        m.put("prpCommands", s.prpCommands);
        m.put("sglCommands", s.sglCommands);
        m.put("errors", s.errors);
        m.put("faults", s.faults);
        m.put("interrupts", s.interrupts);
        m.put("cqFull", s.cqFull);
        m.put("mmioSqDoorbells", controller.doorbellWrites());
        m.put("commands", s.commands);
        List<Map<String, Object>> queues = new ArrayList<>();
        for (SubmissionQueue sq : controller.sqs) {
            if (sq != null) {
                queues.add(Map.of("qid", sq.qid, "size", sq.size, "head", sq.head, "tail", sq.tail, "commands", sq.commands,
                        "cq", sq.cq.qid, "cqTail", sq.cq.tail, "cqHead", sq.cq.head));
            }
        }
        m.put("shadowDoorbells", controller.dbbufShadow != 0);
        m.put("queues", queues);
        return m;
    }

    @Override
    public void close() {
        controller.stop();
        for (Namespace ns : controller.namespaces) {
            ns.backend.close();
        }
    }

}
