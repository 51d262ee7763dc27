package io.iovalab.example;

import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DeviceContext;
import io.iovalab.spi.DeviceOption;
import io.iovalab.spi.DevicePlugin;

import java.util.List;

/**
 * {@code --device dmacopy}: a DMA-copy engine, the smallest complete iovalab device and the one
 * the framework is tested with.
 *
 * <p>How a device is put together, for plugin authors:
 * <ol>
 *   <li>{@link DevicePlugin#create} builds a {@link io.iovalab.pci.PciFunction} with
 *       {@code PciFunction.builder()}: IDs, BARs (each with a {@link io.iovalab.pci.RegionHandler}),
 *       capabilities (PM, MSI-X, PCI Express with FLR, extended ones).</li>
 *   <li>Register accesses arrive on the server's message thread: a handler records the write and
 *       hands real work to a thread from {@link DeviceContext#threads}. Never touch guest memory
 *       there: QEMU may be waiting for the reply while holding its big lock.</li>
 *   <li>Device threads reach guest memory only through a {@link io.iovalab.iommu.DmaCommand} from
 *       {@link DeviceContext#dma()}, started per command so the IOMMU model can tell what each
 *       command touched; a {@link io.iovalab.iommu.DmaFault} ends the command with an error.</li>
 *   <li>Interrupts: {@code function.interrupts().signal(vector)}.</li>
 *   <li>{@link Device#reset} quiesces the threads and returns every register to power-on.</li>
 * </ol>
 */
public final class DmaCopyPlugin implements DevicePlugin {
    /** 1b36 is the QEMU/Red Hat vendor id; 11fe is not assigned to any device there. */
    public static final int DEFAULT_VENDOR = 0x1b36;
    public static final int DEFAULT_DEVICE = 0x11fe;

    @Override
    public String type() {
        return "dmacopy";
    }

    @Override
    public String summary() {
        return "example DMA-copy engine: copies between two IOVAs and raises an MSI-X interrupt";
    }

    @Override
    public List<DeviceOption> options() {
        return List.of(
                new DeviceOption("vectors", "4", "MSI-X vectors (1-64)"),
                new DeviceOption("vendor", "0x1b36", "PCI vendor id"),
                new DeviceOption("device", "0x11fe", "PCI device id"),
                new DeviceOption("serial", "0x0123456789abcdef", "Device Serial Number capability value"));
    }

    @Override
    public Device create(DeviceConfig config, DeviceContext context) throws DeviceConfigException {
        int vectors = (int) config.integer("vectors", 4, 1, 64);
        int vendor = (int) config.integer("vendor", DEFAULT_VENDOR, 1, 0xfffe);
        int device = (int) config.integer("device", DEFAULT_DEVICE, 0, 0xffff);
        long serial = config.integer("serial", 0x0123456789abcdefL, Long.MIN_VALUE, Long.MAX_VALUE);
        return new DmaCopyDevice(context, vendor, device, vectors, serial);
    }
}
