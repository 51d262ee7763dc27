package io.iovalab.mlx5;

import io.iovalab.iommu.DmaAccess;
import io.iovalab.pci.Bar;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.RegionHandler;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceTrace;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;

/**
 * The PCI function: vendor 15b3 with a ConnectX PF device id, class 02/07 (InfiniBand), BAR0 =
 * initialization segment + UAR pages, MSI-X (mandatory for mlx5_core) in its own BAR2 so the
 * table never overlaps the init segment, PCIe with FLR.
 */
final class Mlx5Device implements Device, RegionHandler {
    static final int VENDOR = 0x15b3;
    private final Hca hca;
    private volatile PciFunction function;

    Mlx5Device(Mlx5Config config, DmaAccess dma, ThreadFactory threads, DeviceTrace trace) {
        this.hca = new Hca(config, dma, threads, this::interrupts);
        hca.firmware.trace = trace;
        this.function = PciFunction.builder()
                .vendorId(VENDOR).deviceId(config.deviceId()).subsystem(VENDOR, 0x0007)
                .classCode(0x02, 0x07, 0x00).revision(0).interruptPin(1)
                .bar(0, Bar.memory64(config.bar0Size(), false, this))
                .bar(2, Bar.memory32(16384, RegionHandler.NONE))
                .powerManagement()
                .msix(config.vectors(), 2, 0, 2, 0x2000)
                .pcieEndpoint(true)
                .build();
        hca.start();
    }

    private io.iovalab.pci.Interrupts interrupts() {
        PciFunction f = function;
        return f == null ? null : f.interrupts();
    }

    // ---- BAR0 (message thread)

    @Override
    public long read(long offset, int width) {
        if (offset < InitSegment.SIZE) {
            return hca.iseg.readAccess(offset, width);
        }
        return 0; // UAR pages are write-only doorbells
    }

    @Override
    public void write(long offset, int width, long value) {
        if (offset < InitSegment.SIZE) {
            hca.iseg.writeAccess(offset, width, value);
        } else {
            hca.uarWrite(offset, width, value);
        }
    }

    @Override
    public PciFunction function() {
        return function;
    }

    @Override
    public void reset(ResetReason reason) {
        resets.merge(reason.name(), 1L, Long::sum);
        hca.reset();
    }

    /** Resets by reason (FLR, DEVICE_RESET, CLIENT_GONE): the message thread writes, inspect reads. */
    private final Map<String, Long> resets = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public Map<String, Object> inspect() {
        Firmware fw = hca.firmware;
        Map<String, Object> m = new LinkedHashMap<>();
        synchronized (fw) {
            m.put("hcaState", fw.state.name());
            m.put("resets", new java.util.TreeMap<>(resets));
            m.put("issi", (long) fw.issi);
            m.put("driverVersion", fw.driverVersion);
            m.put("commands", fw.commands);
            m.put("commandsFailed", fw.failed);
            m.put("deliveryErrors", hca.cmdq.deliveryErrors);
            m.put("lastDeliveryError", hca.cmdq.lastDeliveryError);
            m.put("faults", hca.cmdq.faults);
            m.put("cmdEqes", hca.cmdEqes);
            m.put("internalErrors", hca.internalErrors);
            m.put("lastInternalError", hca.lastInternalError);
            m.put("pagesGiven", fw.pages.given);
            m.put("pagesReturned", fw.pages.returned);
            m.put("pagesHeld", (long) fw.pages.held());
            m.put("pagesPeak", fw.pages.peak);
            m.put("pagesDroppedByReset", fw.pages.droppedByReset);
            m.put("uars", (long) fw.uars.count());
            Resources r = fw.resources;
            m.put("pds", (long) r.pds.size());
            m.put("cqs", (long) r.cqs.size());
            m.put("qps", (long) r.qps.size());
            m.put("mkeys", (long) r.mkeys.size());
            m.put("srqs", (long) r.srqs.size());
            m.put("openObjects", (long) (r.pds.size() + r.xrcds.size() + r.transportDomains.size() + r.cqs.size()
                    + r.qps.size() + r.mkeys.size() + r.srqs.size()));
            List<Map<String, Object>> eqs = new ArrayList<>();
            for (EventQueue eq : hca.eqs.all()) {
                eqs.add(Map.of("eqn", (long) eq.eqn, "size", (long) eq.size(), "vector", (long) eq.vector,
                        "events", eq.events, "interrupts", eq.interrupts, "overruns", eq.overruns));
            }
            m.put("eqs", eqs);
            m.put("eqDoorbells", hca.eqs.doorbells);
            m.put("cmdDoorbells", hca.iseg.doorbells());
            m.put("healthCounter", (long) hca.iseg.healthCounter());
            m.putAll(hca.sendQueues.inspect());
            m.put("commandLog", List.copyOf(fw.log));
        }
        return m;
    }

    @Override
    public void close() {
        hca.stop();
    }
}
