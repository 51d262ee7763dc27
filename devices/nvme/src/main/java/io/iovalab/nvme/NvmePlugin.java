package io.iovalab.nvme;

import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.spi.DeviceContext;
import io.iovalab.spi.DeviceOption;
import io.iovalab.spi.DevicePlugin;
import io.iovalab.spi.SharedMemory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code --device nvme:...}: an NVMe 1.4 controller that Linux's nvme driver binds to. */
public final class NvmePlugin implements DevicePlugin {
    @Override
    public String type() {
        return "nvme";
    }

    @Override
    public String summary() {
        return "NVMe 1.4 controller: PRP and SGL, several queues, shadow doorbells, RAM/file/null backends";
    }

    @Override
    public List<DeviceOption> options() {
        return List.of(
                new DeviceOption("size", "1G", "size of each namespace"),
                new DeviceOption("namespaces", "1", "number of namespaces (1-16)"),
                new DeviceOption("lba", "512", "LBA size at power-on: 512 or 4096 (nvme format switches it)"),
                new DeviceOption("backend", "ram", "ram, file or null"),
                new DeviceOption("file", "", "backend file; namespace n > 1 uses FILE.n"),
                new DeviceOption("queues", "4", "I/O queue pairs (1-64)"),
                new DeviceOption("mqes", "1024", "entries per queue (2-4096)"),
                new DeviceOption("mdts", "5", "maximum transfer: 2^mdts x 4 KiB (5 = 128 KiB)"),
                new DeviceOption("sgl", "on", "advertise SGL support"),
                new DeviceOption("dbbuf", "on", "advertise Doorbell Buffer Config (shadow doorbells)"),
                new DeviceOption("serial", "IOVALAB0001", "serial number"),
                new DeviceOption("model", "iovalab NVMe", "model number"),
                new DeviceOption("vectors", "", "MSI-X vectors (default queues + 1)"),
                new DeviceOption("doorbells", "trap", "trap: every doorbell is a message; mmap: BAR0's doorbell page is "
                        + "mmapped by the client and polled by the device"),
                new DeviceOption("spin", "20", "doorbells=mmap: microseconds the idle device spins before it parks"),
                new DeviceOption("poll", "200", "doorbells=mmap: longest park between polls, microseconds"));
    }

    @Override
    public Device create(DeviceConfig config, DeviceContext context) throws DeviceConfigException {
        long size = config.size("size", 1L << 30, 1 << 20, 1L << 40);
        int namespaces = (int) config.integer("namespaces", 1, 1, 16);
        long lba = config.integer("lba", 512, 512, 4096);
        if (lba != 512 && lba != 4096) {
            throw new DeviceConfigException("nvme: lba=" + lba + " (512 or 4096)");
        }
        if (size % 4096 != 0) {
            throw new DeviceConfigException("nvme: size must be a multiple of 4 KiB");
        }
        int queues = (int) config.integer("queues", 4, 1, 64);
        String vectorsText = config.string("vectors", "");
        int vectors = vectorsText.isEmpty() ? queues + 1 : (int) config.integer("vectors", queues + 1, 1, 2048);
        String backend = config.string("backend", "ram");
        String file = config.string("file", "");
        if (backend.equals("file") && file.isEmpty()) {
            throw new DeviceConfigException("nvme: backend=file needs file=PATH");
        }
        String doorbellText = config.string("doorbells", "trap");
        Doorbells.Mode doorbells = switch (doorbellText) {
            case "trap" -> Doorbells.Mode.TRAP;
            case "mmap" -> Doorbells.Mode.MMAP;
            default -> throw new DeviceConfigException("nvme: doorbells=" + doorbellText + " (trap or mmap)");
        };
        long spinMicros = config.integer("spin", 20, 0, 1_000_000);
        long pollMicros = config.integer("poll", 200, 1, 1_000_000);
        DoorbellPolling polling = new DoorbellPolling(spinMicros * 1000, Math.min(5_000, pollMicros * 1000), pollMicros * 1000);
        NvmeConfig c = new NvmeConfig(size, namespaces, lba == 512 ? 0 : 1, backend, file.isEmpty() ? null : Path.of(file),
                queues, (int) config.integer("mqes", 1024, 2, 4096), (int) config.integer("mdts", 5, 1, 8),
                config.bool("sgl", true), config.bool("dbbuf", true), config.string("serial", "IOVALAB0001"),
                config.string("model", "iovalab NVMe"), vectors, doorbells, polling);
        List<Namespace> list = new ArrayList<>();
        try {
            for (int i = 1; i <= namespaces; i++) {
                Backend b = switch (backend) {
                    case "ram" -> new RamBackend(size);
                    case "null" -> new NullBackend(size);
                    case "file" -> new FileBackend(i == 1 ? c.file() : Path.of(c.file() + "." + i), size);
                    default -> throw new DeviceConfigException("nvme: backend=" + backend + " (ram, file or null)");
                };
                list.add(new Namespace(i, b, c.lbaFormat()));
            }
        } catch (IOException e) {
            list.forEach(ns -> ns.backend.close());
            throw new DeviceConfigException("nvme: cannot open the backend file: " + e.getMessage(), e);
        }
        if (doorbells == Doorbells.Mode.TRAP) {
            return new NvmeDevice(new NvmeController(c, list, context.dma(), context.threads("nvme"), context.trace()));
        }
        SharedMemory page;
        try {
            page = context.allocateShared("bar0", NvmeDevice.BAR0_SIZE);
        } catch (IOException e) {
            list.forEach(ns -> ns.backend.close());
            throw new DeviceConfigException("nvme: cannot allocate the doorbell page: " + e.getMessage(), e);
        }
        Doorbells.Mapped mapped = new Doorbells.Mapped(page.segment(), queues + 1);
        return new NvmeDevice(new NvmeController(c, list, context.dma(), context.threads("nvme"), context.trace(), mapped), page);
    }
}
