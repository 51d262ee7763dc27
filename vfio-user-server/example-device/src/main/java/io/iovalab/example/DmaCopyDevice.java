package io.iovalab.example;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.pci.Bar;
import io.iovalab.pci.PciFunction;
import io.iovalab.pci.RegionHandler;
import io.iovalab.spi.Device;
import io.iovalab.spi.DeviceContext;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.iovalab.example.DmaCopyRegs.*;

/** The DMA-copy engine: registers in BAR0, a plain memory window in BAR2, MSI-X in BAR4. */
final class DmaCopyDevice implements Device {
    private final PciFunction function;
    private final ExecutorService worker;
    private final DeviceContext context;
    private final byte[] window = new byte[(int) BAR2_SIZE];
    private volatile DmaCommand dma;

    // registers; written by the message thread, the worker reads them when it starts a copy
    private volatile int scratch;
    private volatile long src;
    private volatile long dst;
    private volatile int len;
    private volatile int ctrl;
    private volatile int status;
    private volatile int count;
    private volatile long faultIova;
    private Future<?> running;

    DmaCopyDevice(DeviceContext context, int vendor, int device, int vectors, long serial) {
        this.context = context;
        this.worker = Executors.newSingleThreadExecutor(context.threads("copy"));
        byte[] dsn = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(serial).array();
        this.function = PciFunction.builder()
                .vendorId(vendor).deviceId(device).subsystem(vendor, device)
                .classCode(0xff, 0x00, 0x00).revision(1)
                .bar(0, Bar.memory32(BAR0_SIZE, new Registers()))
                .bar(2, Bar.memory64(BAR2_SIZE, true, new Window()))
                .bar(4, Bar.memory32(BAR4_SIZE, RegionHandler.NONE))
                .powerManagement()
                .msix(vectors, 4, MSIX_TABLE, 4, MSIX_PBA)
                .pcieEndpoint(true)
                .extendedCapability(io.iovalab.pci.PciRegs.PCI_EXT_CAP_ID_DSN, 1, dsn)
                .build();
    }

    @Override
    public PciFunction function() {
        return function;
    }

    private final class Registers implements RegionHandler {
        @Override
        public long read(long offset, int width) {
            long v = switch ((int) offset & ~3) {
                case ID -> ID_VALUE;
                case VERSION -> VERSION_VALUE;
                case SCRATCH -> scratch;
                case SRC_LO -> (int) src;
                case SRC_HI -> (int) (src >>> 32);
                case DST_LO -> (int) dst;
                case DST_HI -> (int) (dst >>> 32);
                case LEN -> len;
                case CTRL -> ctrl & ~CTRL_GO;
                case STATUS -> status;
                case COUNT -> count;
                case FAULT_LO -> (int) faultIova;
                case FAULT_HI -> (int) (faultIova >>> 32);
                default -> 0;
            } & 0xffffffffL;
            if (width == 8 && (offset & 7) == 0) {
                v |= read(offset + 4, 4) << 32;
            }
            return (v >>> (8 * (offset & 3))) & (width >= 4 ? 0xffffffffL : (1L << (8 * width)) - 1);
        }

        @Override
        public void write(long offset, int width, long value) {
            if (width == 8) {
                write(offset, 4, value & 0xffffffffL);
                write(offset + 4, 4, value >>> 32);
                return;
            }
            if (width != 4 || (offset & 3) != 0) {
                return; // registers take aligned 32-bit writes only, like most hardware
            }
            int v = (int) value;
            switch ((int) offset) {
                case SCRATCH -> scratch = v;
                case SRC_LO -> src = (src & ~0xffffffffL) | (v & 0xffffffffL);
                case SRC_HI -> src = (src & 0xffffffffL) | ((long) v << 32);
                case DST_LO -> dst = (dst & ~0xffffffffL) | (v & 0xffffffffL);
                case DST_HI -> dst = (dst & 0xffffffffL) | ((long) v << 32);
                case LEN -> len = v;
                case STATUS -> status &= ~(v & (STATUS_DONE | STATUS_ERROR));
                case CTRL -> {
                    ctrl = v;
                    if ((v & CTRL_GO) != 0) {
                        go();
                    }
                }
                default -> {
                }
            }
        }
    }

    private synchronized void go() {
        if ((status & STATUS_BUSY) != 0) {
            return;
        }
        status = (status | STATUS_BUSY) & ~(STATUS_DONE | STATUS_ERROR);
        long s = src;
        long d = dst;
        int n = len;
        int c = ctrl;
        running = worker.submit(() -> copy(s, d, n, c));
    }

    private void copy(long from, long to, int n, int c) {
        DmaCommand cmd = dma;
        if (cmd == null) {
            cmd = context.dma().newCommand();
            dma = cmd;
        }
        int result = STATUS_DONE;
        cmd.start(0, count);
        try {
            if (n < 0 || n > MAX_LEN) {
                result = STATUS_ERROR;
            } else {
                MemorySegment buf = MemorySegment.ofArray(new byte[n]);
                cmd.read(from, buf, 0, n);
                cmd.write(to, buf, 0, n);
                count++;
            }
        } catch (DmaFault f) {
            faultIova = f.fault().faultIova();
            result = STATUS_ERROR | (f.fault().kind().ordinal() + 1) << 8;
        } finally {
            cmd.end();
        }
        synchronized (this) {
            status = result;
        }
        if ((c & CTRL_IRQ_ENABLE) != 0) {
            function.interrupts().signal((c >>> 8) & 0xff);
        }
    }

    /** BAR2: memory the guest can read and write with MMIO, to see data pass through the server. */
    private final class Window implements RegionHandler {
        @Override
        public long read(long offset, int width) {
            long v = 0;
            synchronized (window) {
                for (int i = 0; i < width; i++) {
                    v |= (window[(int) offset + i] & 0xffL) << (8 * i);
                }
            }
            return v;
        }

        @Override
        public void write(long offset, int width, long value) {
            synchronized (window) {
                for (int i = 0; i < width; i++) {
                    window[(int) offset + i] = (byte) (value >>> (8 * i));
                }
            }
        }
    }


    @Override
    public void reset(ResetReason reason) {
        Future<?> r;
        synchronized (this) {
            r = running;
        }
        if (r != null) {
            try {
                r.get(5, TimeUnit.SECONDS);
            } catch (Exception ignored) {
                // a copy that faults or hangs is abandoned; its result no longer matters
            }
        }
        synchronized (this) {
            scratch = 0;
            src = 0;
            dst = 0;
            len = 0;
            ctrl = 0;
            status = 0;
            count = 0;
            faultIova = 0;
            running = null;
        }
        synchronized (window) {
            java.util.Arrays.fill(window, (byte) 0);
        }
    }

    @Override
    public Map<String, Object> inspect() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("copies", count);
        m.put("status", status);
        m.put("scratch", scratch);
        return m;
    }

    @Override
    public void close() {
        worker.shutdownNow();
    }
}
