package io.iovalab.example;

import io.iovalab.iommu.IovaSpace;
import io.iovalab.pci.Bar;
import io.iovalab.pci.Capability;
import io.iovalab.pci.IrqIndex;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.PciRegs;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DevicePlugin;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.*;

class DmaCopyPluginTest {

    private static Device create(String spec) throws DeviceConfigException {
        return new DmaCopyPlugin().create(DeviceConfig.parse(spec), new TestContext(new IovaSpace("dmacopy0", null)));
    }

    @Test
    void service_loader_finds_the_plugin_by_type() {
        List<String> types = ServiceLoader.load(DevicePlugin.class).stream().map(p -> p.get().type()).toList();
        assertTrue(types.contains("dmacopy"), types.toString());
    }

    @Test
    void the_function_has_the_documented_layout() throws Exception {
        try (Device d = create("dmacopy")) {
            PciFunction f = d.function();
            byte[] cfg = new byte[f.configSize()];
            f.configRead(0, cfg, 0, cfg.length);
            ByteBuffer b = ByteBuffer.wrap(cfg).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(4096, cfg.length);
            assertEquals(DmaCopyPlugin.DEFAULT_VENDOR, b.getShort(0) & 0xffff);
            assertEquals(DmaCopyPlugin.DEFAULT_DEVICE, b.getShort(2) & 0xffff);
            assertEquals(Bar.Type.MEMORY32, f.bar(0).type());
            assertEquals(4096, f.bar(0).size());
            assertEquals(Bar.Type.MEMORY64, f.bar(2).type());
            assertTrue(f.bar(2).prefetchable());
            assertEquals(1 << 20, f.bar(2).size());
            assertNull(f.bar(3), "upper half of BAR2");
            assertEquals(Bar.Type.MEMORY32, f.bar(4).type());
            assertEquals(List.of(PciRegs.PCI_CAP_ID_PM, PciRegs.PCI_CAP_ID_MSIX, PciRegs.PCI_CAP_ID_EXP, PciRegs.PCI_EXT_CAP_ID_DSN),
                    f.capabilities().stream().map(Capability::id).toList());
            Capability msix = f.capabilities().get(1);
            assertEquals(4, b.getInt(msix.offset() + PciRegs.PCI_MSIX_TABLE), "table at BAR4 + 0");
            assertEquals(0x800 | 4, b.getInt(msix.offset() + PciRegs.PCI_MSIX_PBA), "PBA at BAR4 + 0x800");
            assertEquals(4, f.irqCount(IrqIndex.VFIO_PCI_MSIX_IRQ_INDEX));
            assertEquals(0, f.irqCount(IrqIndex.VFIO_PCI_INTX_IRQ_INDEX));
            Capability exp = f.capabilities().get(2);
            assertNotEquals(0, b.getInt(exp.offset() + PciRegs.PCI_EXP_DEVCAP) & PciRegs.PCI_EXP_DEVCAP_FLR);
            assertEquals(DmaCopyPlugin.DEFAULT_SERIAL, b.getLong(0x104));
        }
    }

    @Test
    void options_change_ids_vectors_and_serial() throws Exception {
        try (Device d = create("dmacopy:vectors=64,vendor=0x1af4,device=0x10ff,serial=0x42")) {
            PciFunction f = d.function();
            byte[] cfg = new byte[0x110];
            f.configRead(0, cfg, 0, cfg.length);
            ByteBuffer b = ByteBuffer.wrap(cfg).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(0x1af4, b.getShort(0) & 0xffff);
            assertEquals(0x10ff, b.getShort(2) & 0xffff);
            assertEquals(64, f.irqCount(IrqIndex.VFIO_PCI_MSIX_IRQ_INDEX));
            assertEquals(0x42, b.getLong(0x104));
        }
    }

    @Test
    void bad_options_name_the_key() {
        for (String spec : List.of("dmacopy:vectors=0", "dmacopy:vectors=65", "dmacopy:vendor=0xffff",
                "dmacopy:vectors=many", "dmacopy:colour=blue")) {
            DeviceConfigException e = assertThrows(DeviceConfigException.class, () -> create(spec), spec);
            String key = spec.substring(spec.indexOf(':') + 1, spec.indexOf('='));
            assertTrue(e.getMessage().contains(key), e.getMessage());
        }
    }
}
