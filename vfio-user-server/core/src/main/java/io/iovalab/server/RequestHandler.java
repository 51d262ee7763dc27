package io.iovalab.server;

import io.iovalab.iommu.IovaSpace;
import io.iovalab.iommu.MapException;
import io.iovalab.os.Errno;
import io.iovalab.os.Fd;
import io.iovalab.pci.Bar;
import io.iovalab.pci.Interrupts;
import io.iovalab.pci.IrqIndex;
import io.iovalab.pci.MmapArea;
import io.iovalab.pci.PciFunction;
import io.iovalab.spi.Device;
import io.iovalab.wire.Capabilities;
import io.iovalab.wire.Message.*;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;

import static io.iovalab.wire.Message.*;

/**
 * What each vfio-user request does to the device, its PCI function and its IOVA space. Runs on
 * the session's message thread only; it never waits for guest memory.
 */
final class RequestHandler {
    private static final Logger log = LoggerFactory.getLogger(RequestHandler.class);
    private static final int REGION_INFO_SIZE = 32;

    private final Device device;
    private final PciFunction function;
    private final IovaSpace iova;
    private final DmaFileCache files;
    private final IrqTable irqs;
    private final ServerOptions options;
    private Capabilities client;
    private RemoteDmaChannel remote;

    RequestHandler(Device device, IovaSpace iova, DmaFileCache files, IrqTable irqs, ServerOptions options) {
        this.device = device;
        this.function = device.function();
        this.iova = iova;
        this.files = files;
        this.irqs = irqs;
        this.options = options;
    }

    /** The channel of the session's DMA_READ/WRITE, which a reset must not wait on. */
    void useRemote(RemoteDmaChannel channel) {
        this.remote = channel;
    }

    /** The client's capabilities once VERSION was exchanged, else null. */
    Capabilities client() {
        return client;
    }

    Capabilities serverCapabilities() {
        // write_multiple: REGION_WRITE_MULTI is served (QEMU batches posted writes with it under load)
        return new Capabilities(options.maxMsgFds(), options.maxDataXferSize(), 4096, Math.min(options.maxDmaMaps(), 65535),
                true);
    }

    /**
     * Handles one request. {@code fds} are the descriptors that came with it; the handler takes
     * those it keeps by nulling them out, the caller closes the rest.
     */
    Outcome handle(Request request, Fd[] fds) throws HandlerException {
        if (client == null && !(request instanceof Version)) {
            throw new HandlerException(Errno.EINVAL, "VERSION must be the first message");
        }
        return switch (request) {
            case Version v -> version(v);
            case DmaMap m -> dmaMap(m, fds);
            case DmaUnmap u -> dmaUnmap(u);
            case DeviceGetInfo g -> Outcome.of(new DeviceInfo(16, VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI,
                    VFIO_PCI_NUM_REGIONS, IrqIndex.VFIO_PCI_NUM_IRQS));
            case DeviceGetRegionInfo r -> regionInfo(r);
            case DeviceGetRegionIoFds r -> Outcome.of(new DeviceGetRegionIoFds(16, 0, r.index(), 0));
            case DeviceGetIrqInfo i -> irqInfo(i);
            case DeviceSetIrqs s -> setIrqs(s, fds);
            case RegionRead r -> Outcome.of(new RegionReadReply(r.offset(), r.region(), r.count(),
                    regionRead(r.region(), r.offset(), r.count())));
            case RegionWrite w -> {
                regionWrite(w.region(), w.offset(), w.data());
                yield Outcome.of(new RegionWriteReply(w.offset(), w.region(), w.count()));
            }
            case RegionWriteMulti m -> {
                for (Write w : m.writes()) {
                    byte[] data = new byte[w.count()];
                    for (int i = 0; i < w.count(); i++) {
                        data[i] = (byte) (w.data() >>> (8 * i));
                    }
                    regionWrite(w.region(), w.offset(), data);
                }
                yield Outcome.of(new Empty());
            }
            case DeviceReset r -> {
                reset(Device.ResetReason.DEVICE_RESET);
                yield Outcome.of(new Empty());
            }
            case DeviceFeature f -> throw new HandlerException(Errno.EINVAL,
                    "DEVICE_FEATURE 0x" + Integer.toHexString(f.flags()) + ": no features (no migration, no dirty tracking)");
            case MigDataRead r -> throw new HandlerException(Errno.EINVAL, "MIG_DATA_READ: migration is not supported");
            case MigDataWrite w -> throw new HandlerException(Errno.EINVAL, "MIG_DATA_WRITE: migration is not supported");
            case Unsupported u -> throw new HandlerException(Errno.EINVAL, u.command() + " is not a client request");
            case DmaRead r -> throw new HandlerException(Errno.EINVAL, "DMA_READ is sent by the server, not the client");
            case DmaWrite w -> throw new HandlerException(Errno.EINVAL, "DMA_WRITE is sent by the server, not the client");
        };
    }

    private Outcome version(Version v) throws HandlerException {
        if (v.major() != 0) {
            throw new HandlerException(Errno.EINVAL, "VERSION " + v.major() + "." + v.minor() + ": only major 0 is spoken");
        }
        client = v.capabilities();
        log.debug("VERSION {}.{} client {}", v.major(), v.minor(), client);
        return Outcome.of(new Version(0, 0, serverCapabilities()));
    }

    private Outcome dmaMap(DmaMap m, Fd[] fds) throws HandlerException {
        if ((m.flags() & ~(VFIO_USER_F_DMA_REGION_READ | VFIO_USER_F_DMA_REGION_WRITE)) != 0) {
            throw new HandlerException(Errno.EINVAL, "DMA_MAP flags 0x" + Integer.toHexString(m.flags()));
        }
        MappedFile file = null;
        if (fds.length == 1) {
            file = files.acquire(fds[0], m.offset(), m.size());
        }
        try {
            iova.map(m.address(), m.size(), file, m.offset(), m.readable(), m.writable());
            log.debug("DMA_MAP iova 0x{}+0x{} {} off 0x{} {}", Long.toHexString(m.address()), Long.toHexString(m.size()),
                    file == null ? "remote" : file.describe(), Long.toHexString(m.offset()),
                    (m.readable() ? "R" : "") + (m.writable() ? "W" : ""));
        } catch (MapException e) {
            throw new HandlerException(e.errno(), e.getMessage());
        } finally {
            if (file != null) {
                file.release(); // the IOVA space holds its own reference now
            }
        }
        return Outcome.of(new Empty());
    }

    private Outcome dmaUnmap(DmaUnmap u) throws HandlerException {
        if ((u.flags() & VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP) != 0) {
            throw new HandlerException(Errno.ENOTSUP, "DMA_UNMAP: dirty page tracking is not supported");
        }
        long bytes;
        if (u.all()) {
            if (u.address() != 0 || u.size() != 0) {
                throw new HandlerException(Errno.EINVAL, "DMA_UNMAP ALL with a non-zero range");
            }
            bytes = iova.unmapAll();
            files.clear();
        } else {
            bytes = iova.unmap(u.address(), u.size());
        }
        log.debug("DMA_UNMAP iova 0x{}+0x{}{}: 0x{} bytes unmapped", Long.toHexString(u.address()),
                Long.toHexString(u.size()), u.all() ? " ALL" : "", Long.toHexString(bytes));
        return Outcome.of(new DmaUnmap(24, u.flags(), u.address(), u.size()));
    }

    private Outcome regionInfo(DeviceGetRegionInfo r) throws HandlerException {
        int index = r.index();
        if (index < 0 || index >= VFIO_PCI_NUM_REGIONS) {
            throw new HandlerException(Errno.EINVAL, "GET_REGION_INFO: no region " + index);
        }
        if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
            return Outcome.of(new RegionInfo(REGION_INFO_SIZE, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE,
                    index, 0, function.configSize(), 0, List.of()));
        }
        Bar bar = index < 6 ? function.bar(index) : null;
        if (bar == null) {
            return Outcome.of(new RegionInfo(REGION_INFO_SIZE, 0, index, 0, 0, 0, List.of()));
        }
        int flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
        if (bar.mmapAreas().isEmpty()) {
            return Outcome.of(new RegionInfo(REGION_INFO_SIZE, flags, index, 0, bar.size(), 0, List.of()));
        }
        List<SparseArea> areas = new ArrayList<>();
        for (MmapArea a : bar.mmapAreas()) {
            areas.add(new SparseArea(a.offset(), a.size()));
        }
        int needed = REGION_INFO_SIZE + 16 + 16 * areas.size();
        flags |= VFIO_REGION_INFO_FLAG_MMAP;
        if (r.argsz() < needed) {
            // QEMU asks again with a buffer of the size we name
            return Outcome.of(new RegionInfo(needed, flags, index, 0, bar.size(), 0, List.of()));
        }
        Fd fd = ((MemfdSharedMemory) bar.shared()).ownedFd();
        return new Outcome(new RegionInfo(needed, flags | VFIO_REGION_INFO_FLAG_CAPS, index, REGION_INFO_SIZE, bar.size(), 0,
                areas), fd);
    }

    private Outcome irqInfo(DeviceGetIrqInfo i) throws HandlerException {
        if (i.index() < 0 || i.index() >= IrqIndex.VFIO_PCI_NUM_IRQS) {
            throw new HandlerException(Errno.EINVAL, "GET_IRQ_INFO: no irq index " + i.index());
        }
        int flags = VFIO_IRQ_INFO_EVENTFD;
        if (i.index() == IrqIndex.VFIO_PCI_INTX_IRQ_INDEX) {
            flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
        } else if (i.index() == IrqIndex.VFIO_PCI_MSI_IRQ_INDEX || i.index() == IrqIndex.VFIO_PCI_MSIX_IRQ_INDEX) {
            flags |= VFIO_IRQ_INFO_MASKABLE;
        }
        return Outcome.of(new IrqInfo(16, flags, i.index(), function.irqCount(i.index())));
    }

    private Outcome setIrqs(DeviceSetIrqs s, Fd[] fds) throws HandlerException {
        int index = s.index();
        if (index < 0 || index >= IrqIndex.VFIO_PCI_NUM_IRQS) {
            throw new HandlerException(Errno.EINVAL, "SET_IRQS: no irq index " + index);
        }
        int vectors = function.irqCount(index);
        boolean disableAll = s.count() == 0 && s.dataType() == VFIO_IRQ_SET_DATA_NONE && s.action() == VFIO_IRQ_SET_ACTION_TRIGGER;
        if (!disableAll && (long) s.start() + s.count() > vectors) {
            throw new HandlerException(Errno.EINVAL, "SET_IRQS: index " + index + " has " + vectors + " vectors; "
                    + s.start() + "+" + s.count() + " requested");
        }
        Interrupts irq = function.interrupts();
        log.debug("SET_IRQS index {} flags 0x{} start {} count {} fds {}", index, Integer.toHexString(s.flags()), s.start(),
                s.count(), fds.length);
        switch (s.dataType()) {
            case VFIO_IRQ_SET_DATA_EVENTFD -> {
                if (s.action() == VFIO_IRQ_SET_ACTION_TRIGGER) {
                    Fd[] taken = new Fd[s.count()];
                    for (int i = 0; i < fds.length; i++) {
                        taken[i] = fds[i];
                        fds[i] = null;
                    }
                    irqs.assign(index, s.start(), taken);
                } else {
                    // ACTION_UNMASK eventfd (KVM resamplefd for INTx): kept only as far as closing it goes
                    log.debug("SET_IRQS: unmask eventfd for index {} noted; unmask by message is used instead", index);
                }
            }
            case VFIO_IRQ_SET_DATA_NONE -> {
                switch (s.action()) {
                    case VFIO_IRQ_SET_ACTION_TRIGGER -> {
                        if (s.count() == 0) {
                            irqs.disable(index);
                        } else {
                            irq.trigger(index, s.start(), s.count());
                        }
                    }
                    case VFIO_IRQ_SET_ACTION_MASK -> irq.mask(index, s.start(), s.count());
                    default -> irq.unmask(index, s.start(), s.count());
                }
            }
            default -> {
                for (int i = 0; i < s.count(); i++) {
                    if (s.bools()[i] != 0) {
                        switch (s.action()) {
                            case VFIO_IRQ_SET_ACTION_TRIGGER -> irq.trigger(index, s.start() + i, 1);
                            case VFIO_IRQ_SET_ACTION_MASK -> irq.mask(index, s.start() + i, 1);
                            default -> irq.unmask(index, s.start() + i, 1);
                        }
                    }
                }
            }
        }
        return Outcome.of(new Empty());
    }

    private byte[] regionRead(int region, long offset, int count) throws HandlerException {
        byte[] out = new byte[count];
        if (region == VFIO_PCI_CONFIG_REGION_INDEX) {
            checkBounds(region, offset, count, function.configSize());
            function.configRead(offset, out, 0, count);
            return out;
        }
        Bar bar = barFor(region);
        checkBounds(region, offset, count, bar.size());
        for (int done = 0; done < count; ) {
            int w = width(offset + done, count - done);
            long v = function.regionRead(region, offset + done, w);
            for (int i = 0; i < w; i++) {
                out[done + i] = (byte) (v >>> (8 * i));
            }
            done += w;
        }
        return out;
    }

    private void regionWrite(int region, long offset, byte[] data) throws HandlerException {
        if (region == VFIO_PCI_CONFIG_REGION_INDEX) {
            checkBounds(region, offset, data.length, function.configSize());
            function.configWrite(offset, data, 0, data.length);
            return;
        }
        Bar bar = barFor(region);
        checkBounds(region, offset, data.length, bar.size());
        for (int done = 0; done < data.length; ) {
            int w = width(offset + done, data.length - done);
            long v = 0;
            for (int i = 0; i < w; i++) {
                v |= (data[done + i] & 0xffL) << (8 * i);
            }
            function.regionWrite(region, offset + done, w, v);
            done += w;
        }
    }

    /** Largest naturally aligned access of 8/4/2/1 bytes that fits. */
    private static int width(long offset, int left) {
        for (int w = 8; w > 1; w >>= 1) {
            if (left >= w && (offset & (w - 1)) == 0) {
                return w;
            }
        }
        return 1;
    }

    private Bar barFor(int region) throws HandlerException {
        Bar bar = region >= 0 && region < 6 ? function.bar(region) : null;
        if (bar == null) {
            throw new HandlerException(Errno.EINVAL, "region " + region + " does not exist");
        }
        return bar;
    }

    private static void checkBounds(int region, long offset, int count, long size) throws HandlerException {
        if (offset < 0 || count < 0 || offset + count > size) {
            throw new HandlerException(Errno.EINVAL, "region " + region + " access at 0x" + Long.toHexString(offset) + "+"
                    + count + " beyond its size 0x" + Long.toHexString(size));
        }
    }

    /** DEVICE_RESET and FLR: quiesce the device, then power-on config. */
    void reset(Device.ResetReason reason) {
        log.debug("{}: reset ({})", device.getClass().getSimpleName(), reason);
        iova.setBusMasterEnabled(false);
        RemoteDmaChannel r = remote;
        if (r != null) {
            r.suspend();
        }
        try {
            device.reset(reason);
        } finally {
            if (r != null) {
                r.resume();
            }
        }
        function.resetConfig();
    }
}
