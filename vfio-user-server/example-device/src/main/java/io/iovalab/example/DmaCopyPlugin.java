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
 * the framework is tested with. Registers: {@link DmaCopyRegs}.
 *
 * <p>How a device is put together, for plugin authors:
 * <ol>
 *   <li><b>Function.</b> {@link DevicePlugin#create} builds a {@link io.iovalab.pci.PciFunction}
 *       with {@code PciFunction.builder()}: IDs, BARs (each with a {@link io.iovalab.pci.RegionHandler}),
 *       capabilities (PM, MSI-X with its table and PBA in a BAR, PCI Express with FLR, extended
 *       ones such as DSN). The framework answers config space, BAR sizing, the MSI-X table and
 *       PBA; the device sees only its own registers ({@code DmaCopyDevice}).</li>
 *   <li><b>Registers on the message thread.</b> A handler's {@code read}/{@code write} run on the
 *       server's message thread, with naturally aligned 1/2/4/8-byte accesses: record the value,
 *       hand real work to a device thread and return ({@code Registers}). Never touch guest
 *       memory there: QEMU may be waiting for this reply while the DMA needs QEMU.</li>
 *   <li><b>Work on device threads.</b> Create them with {@link DeviceContext#threads}, so they are
 *       named after the device and their failures are logged ({@code CopyEngine}).</li>
 *   <li><b>DMA.</b> A device thread takes one {@link io.iovalab.iommu.DmaCommand} from
 *       {@link DeviceContext#dma()} and reuses it: {@code start(queue, id)}, reads and writes by
 *       IOVA, {@code end()}. The IOMMU model checks every access and files per-command statistics;
 *       a refused access throws {@link io.iovalab.iommu.DmaFault}, which the device turns into
 *       its own error status (here STATUS.ERROR with the fault kind).</li>
 *   <li><b>Interrupts.</b> {@code function.interrupts().signal(vector)} from any thread; the
 *       framework picks MSI-X, MSI or INTx and holds the message while it is masked.</li>
 *   <li><b>Reset.</b> {@link Device#reset} stops work in flight (without waiting on guest memory
 *       for long) and returns every register to its power-on value; the server resets the config
 *       space itself.</li>
 * </ol>
 *
 * <p>IDs: vendor 0x1b36 (Red Hat / QEMU) with device 0x11fe, an experimental pair not assigned in
 * QEMU's list; no guest driver binds to it, so the guest reaches it with setpci and devmem.
 */
public final class DmaCopyPlugin implements DevicePlugin {
    public static final int DEFAULT_VENDOR = 0x1b36;
    public static final int DEFAULT_DEVICE = 0x11fe;
    public static final long DEFAULT_SERIAL = 0x0123456789abcdefL;
    /** The table (16 bytes a vector) must end before the PBA at 0x800; 64 keeps the PBA one qword. */
    public static final int MAX_VECTORS = 64;

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
                new DeviceOption("vectors", "4", "MSI-X vectors (1-" + MAX_VECTORS + ")"),
                new DeviceOption("vendor", "0x1b36", "PCI vendor id"),
                new DeviceOption("device", "0x11fe", "PCI device id"),
                new DeviceOption("serial", "0x0123456789abcdef", "Device Serial Number capability value (64 bits)"));
    }

    @Override
    public Device create(DeviceConfig config, DeviceContext context) throws DeviceConfigException {
        config.checkKeys(options());
        int vectors = (int) config.integer("vectors", 4, 1, MAX_VECTORS);
        int vendor = (int) config.integer("vendor", DEFAULT_VENDOR, 1, 0xfffe);
        int device = (int) config.integer("device", DEFAULT_DEVICE, 0, 0xffff);
        long serial = config.integer("serial", DEFAULT_SERIAL, Long.MIN_VALUE, Long.MAX_VALUE);
        return new DmaCopyDevice(context, vendor, device, vectors, serial);
    }
}
