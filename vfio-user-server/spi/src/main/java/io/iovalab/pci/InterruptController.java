package io.iovalab.pci;

import java.util.Arrays;

import static io.iovalab.pci.IrqIndex.*;

/**
 * Routes a device's interrupts to the eventfds the client installed.
 *
 * <p>QEMU emulates the MSI-X table itself and never forwards table writes, so per-vector mask
 * bits of our table copy must not gate delivery (they would stay masked forever); QEMU masks a
 * vector by swapping its eventfd instead. What gates delivery here: MSI-X Enable and Function
 * Mask from config writes, SET_IRQS masks, and whether a vector has a sink. A vector that cannot
 * be delivered sets its pending bit and goes out as soon as it can.
 */
final class InterruptController implements Interrupts {
    private final PciFunction f;
    private final EventSink[][] sinks = new EventSink[VFIO_PCI_NUM_IRQS][];
    private final boolean[][] masked = new boolean[VFIO_PCI_NUM_IRQS][];
    private final boolean[] msixPending;
    private final boolean[] msiPending;
    private final long[] table; // MSI-X table copy: 2 longs per vector
    private boolean intxAsserted;

    InterruptController(PciFunction f) {
        this.f = f;
        for (int i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
            int n = Math.max(f.irqCount(i), 0);
            sinks[i] = new EventSink[n];
            masked[i] = new boolean[n];
        }
        msixPending = new boolean[f.msixVectors];
        msiPending = new boolean[f.msiVectors];
        table = new long[2 * f.msixVectors];
        resetTable();
    }

    private void resetTable() {
        for (int v = 0; v < f.msixVectors; v++) {
            table[2 * v] = 0;
            table[2 * v + 1] = 1L << 32; // Vector Control: masked at power-on
        }
    }

    @Override
    public void signal(int vector) {
        synchronized (f.lock) {
            if (f.msixCap != 0 && f.msixEnabledLocked()) {
                if (vector < 0 || vector >= f.msixVectors) {
                    return;
                }
                EventSink s = sinks[VFIO_PCI_MSIX_IRQ_INDEX][vector];
                if (f.msixMaskedLocked() || masked[VFIO_PCI_MSIX_IRQ_INDEX][vector] || s == null) {
                    msixPending[vector] = true;
                } else {
                    s.signal();
                }
            } else if (f.msiEnabledLocked()) {
                if (vector < 0 || vector >= f.msiEnabledVectorsLocked() || vector >= f.msiVectors) {
                    return;
                }
                EventSink s = sinks[VFIO_PCI_MSI_IRQ_INDEX][vector];
                if (f.msiVectorMaskedLocked(vector) || masked[VFIO_PCI_MSI_IRQ_INDEX][vector] || s == null) {
                    msiPending[vector] = true;
                } else {
                    s.signal();
                }
            } else if (f.interruptPin != 0) {
                f.setInterruptStatusLocked(true);
                intxAsserted = true;
                fireIntxLocked();
            }
        }
    }

    /** VFIO INTx is automasked: one event per assertion until the client unmasks. */
    private void fireIntxLocked() {
        if (!intxAsserted || f.intxDisabledLocked()) {
            return;
        }
        EventSink s = sinks[VFIO_PCI_INTX_IRQ_INDEX].length > 0 ? sinks[VFIO_PCI_INTX_IRQ_INDEX][0] : null;
        if (s != null && !masked[VFIO_PCI_INTX_IRQ_INDEX][0]) {
            masked[VFIO_PCI_INTX_IRQ_INDEX][0] = true;
            s.signal();
        }
    }

    @Override
    public void deassertIntx() {
        synchronized (f.lock) {
            intxAsserted = false;
            f.setInterruptStatusLocked(false);
        }
    }

    void intxDisabledLocked() {
        // Command.INTx Disable: the line stops being driven; Interrupt Status still shows the condition
    }

    @Override
    public Mode mode() {
        synchronized (f.lock) {
            if (f.msixCap != 0 && f.msixEnabledLocked()) {
                return Mode.MSIX;
            }
            if (f.msiEnabledLocked()) {
                return Mode.MSI;
            }
            return f.interruptPin != 0 ? Mode.INTX : Mode.NONE;
        }
    }

    @Override
    public void setSinks(int irqIndex, int start, EventSink[] newSinks) {
        synchronized (f.lock) {
            EventSink[] row = row(irqIndex, start, newSinks.length);
            System.arraycopy(newSinks, 0, row, start, newSinks.length);
            deliverPendingLocked();
            if (irqIndex == VFIO_PCI_INTX_IRQ_INDEX) {
                fireIntxLocked();
            }
        }
    }

    @Override
    public void disable(int irqIndex) {
        synchronized (f.lock) {
            if (irqIndex < 0 || irqIndex >= VFIO_PCI_NUM_IRQS) {
                throw new IllegalArgumentException("irq index " + irqIndex);
            }
            Arrays.fill(sinks[irqIndex], null);
            Arrays.fill(masked[irqIndex], false);
        }
    }

    @Override
    public void mask(int irqIndex, int start, int count) {
        synchronized (f.lock) {
            row(irqIndex, start, count);
            Arrays.fill(masked[irqIndex], start, start + count, true);
        }
    }

    @Override
    public void unmask(int irqIndex, int start, int count) {
        synchronized (f.lock) {
            row(irqIndex, start, count);
            Arrays.fill(masked[irqIndex], start, start + count, false);
            deliverPendingLocked();
            if (irqIndex == VFIO_PCI_INTX_IRQ_INDEX) {
                fireIntxLocked();
            }
        }
    }

    @Override
    public void trigger(int irqIndex, int start, int count) {
        synchronized (f.lock) {
            EventSink[] row = row(irqIndex, start, count);
            for (int v = start; v < start + count; v++) {
                if (row[v] != null && !masked[irqIndex][v]) {
                    row[v].signal();
                }
            }
        }
    }

    private EventSink[] row(int irqIndex, int start, int count) {
        if (irqIndex < 0 || irqIndex >= VFIO_PCI_NUM_IRQS) {
            throw new IllegalArgumentException("irq index " + irqIndex);
        }
        EventSink[] row = sinks[irqIndex];
        if (start < 0 || count < 0 || start + count > row.length) {
            throw new IllegalArgumentException("irq index " + irqIndex + " has " + row.length + " vectors; "
                    + "vectors " + start + ".." + (start + count - 1) + " requested");
        }
        return row;
    }

    /** Sends whatever became deliverable (unmask, new sink, function mask cleared). */
    void deliverPendingLocked() {
        if (f.msixCap != 0 && f.msixEnabledLocked() && !f.msixMaskedLocked()) {
            for (int v = 0; v < msixPending.length; v++) {
                EventSink s = sinks[VFIO_PCI_MSIX_IRQ_INDEX][v];
                if (msixPending[v] && s != null && !masked[VFIO_PCI_MSIX_IRQ_INDEX][v]) {
                    msixPending[v] = false;
                    s.signal();
                }
            }
        } else if (f.msiEnabledLocked()) {
            for (int v = 0; v < msiPending.length; v++) {
                EventSink s = sinks[VFIO_PCI_MSI_IRQ_INDEX][v];
                if (msiPending[v] && s != null && !masked[VFIO_PCI_MSI_IRQ_INDEX][v] && !f.msiVectorMaskedLocked(v)) {
                    msiPending[v] = false;
                    s.signal();
                }
            }
        }
    }

    long tableRead(long offset, int width) {
        synchronized (f.lock) {
            return readLongs(table, offset, width);
        }
    }

    void tableWrite(long offset, int width, long value) {
        synchronized (f.lock) {
            for (int i = 0; i < width; i++) {
                long at = offset + i;
                int word = (int) (at >>> 3);
                int shift = (int) (at & 7) * 8;
                // only the address, data and Vector Control mask bit are writable
                long writable = (word & 1) == 0 ? -1L : 0x1_ffff_ffffL;
                long b = ((value >>> (8 * i)) & 0xff) << shift;
                long m = (0xffL << shift) & writable;
                table[word] = (table[word] & ~m) | (b & m);
            }
        }
    }

    long pbaRead(long offset, int width) {
        synchronized (f.lock) {
            long[] bits = new long[(int) (f.pbaSize() / 8)];
            for (int v = 0; v < msixPending.length; v++) {
                if (msixPending[v]) {
                    bits[v >>> 6] |= 1L << (v & 63);
                }
            }
            return readLongs(bits, offset, width);
        }
    }

    private static long readLongs(long[] words, long offset, int width) {
        long v = 0;
        for (int i = 0; i < width; i++) {
            long at = offset + i;
            long b = (words[(int) (at >>> 3)] >>> ((at & 7) * 8)) & 0xff;
            v |= b << (8 * i);
        }
        return v;
    }

    void resetLocked() {
        Arrays.fill(msixPending, false);
        Arrays.fill(msiPending, false);
        intxAsserted = false;
        resetTable();
    }
}
