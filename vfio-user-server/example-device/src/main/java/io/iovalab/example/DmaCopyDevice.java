package io.iovalab.example;

import io.iovalab.pci.Bar;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.PciRegs;
import io.iovalab.pci.RegionHandler;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceContext;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;

import static io.iovalab.example.DmaCopyRegs.*;

/** The DMA-copy engine: registers in BAR0, a memory window in BAR2, MSI-X table and PBA in BAR4. */
final class DmaCopyDevice implements Device {
    private final PciFunction function;
    private final CopyEngine engine;
    private final Registers registers;
    private final DataWindow window;

    DmaCopyDevice(DeviceContext context, int vendor, int device, int vectors, long serial) {
        this.engine = new CopyEngine(context);
        this.registers = new Registers(engine);
        this.window = new DataWindow((int) BAR2_SIZE);
        byte[] dsn = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(serial).array();
        this.function = PciFunction.builder()
                .vendorId(vendor).deviceId(device).subsystem(vendor, device)
                .classCode(0xff, 0x00, 0x00).revision(1)
                .bar(0, Bar.memory32(BAR0_SIZE, registers))
                .bar(2, Bar.memory64(BAR2_SIZE, true, window))
                .bar(4, Bar.memory32(BAR4_SIZE, RegionHandler.NONE))
                .powerManagement()
                .msix(vectors, 4, MSIX_TABLE, 4, MSIX_PBA)
                .pcieEndpoint(true)
                .extendedCapability(PciRegs.PCI_EXT_CAP_ID_DSN, 1, dsn)
                .build();
        engine.attach(function.interrupts());
    }

    @Override
    public PciFunction function() {
        return function;
    }

    @Override
    public void reset(ResetReason reason) {
        engine.reset();
        registers.reset();
        window.clear();
    }

    @Override
    public Map<String, Object> inspect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("copies", engine.completed());
        m.put("status", engine.status());
        m.put("scratch", registers.scratch());
        m.put("lastFaultIova", engine.faultIova());
        return m;
    }

    @Override
    public void close() {
        engine.close();
    }
}
