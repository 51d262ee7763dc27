package io.iovalab.pci;

import java.util.Arrays;

import static io.iovalab.pci.IrqIndex.*;

/**
 * Routes a device's interrupts to the eventfd sinks the client installed with SET_IRQS.
 *
 * <p>Everything here runs under the function's lock, including {@link EventSink#signal()}: once
 * {@link #setSinks} or {@link #disable} returns, no thread is still signalling a sink it removed,
 * so the server may close the old eventfd right away.
 *
 * <p>What gates MSI-X delivery: MSI-X Enable and Function Mask (config writes), SET_IRQS masks,
 * the table's per-vector Mask bits if the client writes the table ({@link MsixTable}), and whether
 * the vector has a sink. A vector that cannot be delivered sets its pending bit, which coalesces
 * further signals, and goes out once, as soon as nothing gates it. MSI works the same way with the
 * capability's Mask and Pending Bits registers. INTx is a level: asserted until the device
 * deasserts it; VFIO automasks it on each event and the client unmasks after the guest's EOI.
 */
final class InterruptController implements Interrupts {
    private final PciFunction f;
    private final EventSink[][] sinks = new EventSink[VFIO_PCI_NUM_IRQS][];
    private final boolean[][] masked = new boolean[VFIO_PCI_NUM_IRQS][];
    final MsixTable msix;
    private int msiPending;
    private boolean intxAsserted;
    private long dropped;

    InterruptController(PciFunction f) {
        this.f = f;
        for (int i = 0; i < VFIO_PCI_NUM_IRQS; i++) {
            sinks[i] = new EventSink[f.irqCount(i)];
            masked[i] = new boolean[f.irqCount(i)];
        }
        msix = new MsixTable(f.msixVectors);
    }

    // ---------------- device-facing ----------------

    @Override
    public void signal(int vector) {
        synchronized (f.lock) {
            switch (modeLocked()) {
                case MSIX -> raiseMsix(vector);
                case MSI -> raiseMsi(vector);
                case INTX -> {
                    intxAsserted = true;
                    f.setInterruptStatusLocked(true);
                    fireIntx();
                }
                case NONE -> dropped++;
            }
        }
    }

    @Override
    public void deassertIntx() {
        synchronized (f.lock) {
            intxAsserted = false;
            f.setInterruptStatusLocked(false);
        }
    }

    @Override
    public Mode mode() {
        synchronized (f.lock) {
            return modeLocked();
        }
    }

    private Mode modeLocked() {
        if (f.msixEnabledLocked()) {
            return Mode.MSIX;
        }
        if (f.msiEnabledLocked()) {
            return Mode.MSI;
        }
        return f.interruptPin != 0 ? Mode.INTX : Mode.NONE;
    }

    private void raiseMsix(int vector) {
        if (vector < 0 || vector >= msix.vectors()) {
            dropped++;
            return;
        }
        EventSink s = sinks[VFIO_PCI_MSIX_IRQ_INDEX][vector];
        if (s == null || f.msixFunctionMaskedLocked() || msixVectorMasked(vector)) {
            msix.setPending(vector, true);
        } else {
            s.signal();
        }
    }

    /** A vector beyond what Multiple Message Enable granted aliases onto the granted ones. */
    private void raiseMsi(int vector) {
        if (vector < 0 || vector >= Math.max(f.msiVectors, 1)) {
            dropped++;
            return;
        }
        int v = vector & (f.msiEnabledVectorsLocked() - 1);
        EventSink s = sinks[VFIO_PCI_MSI_IRQ_INDEX][v];
        if (s == null || msiVectorMasked(v)) {
            setMsiPending(v, true);
        } else {
            s.signal();
        }
    }

    private boolean msixVectorMasked(int v) {
        return masked[VFIO_PCI_MSIX_IRQ_INDEX][v] || msix.vectorMasked(v);
    }

    private boolean msiVectorMasked(int v) {
        return masked[VFIO_PCI_MSI_IRQ_INDEX][v] || (f.msiMaskBitsLocked() & 1 << v) != 0;
    }

    private void setMsiPending(int v, boolean on) {
        msiPending = on ? msiPending | 1 << v : msiPending & ~(1 << v);
        f.setMsiPendingBitsLocked(msiPending);
    }

    /** One event per assertion until the client unmasks (VFIO_IRQ_INFO_AUTOMASKED); never with MSI/MSI-X on. */
    private void fireIntx() {
        if (!intxAsserted || f.intxDisabledLocked() || modeLocked() != Mode.INTX
                || sinks[VFIO_PCI_INTX_IRQ_INDEX].length == 0) {
            return;
        }
        EventSink s = sinks[VFIO_PCI_INTX_IRQ_INDEX][0];
        if (s != null && !masked[VFIO_PCI_INTX_IRQ_INDEX][0]) {
            masked[VFIO_PCI_INTX_IRQ_INDEX][0] = true;
            s.signal();
        }
    }

    // ---------------- server-facing (SET_IRQS) ----------------

    @Override
    public void setSinks(int irqIndex, int start, EventSink[] newSinks) {
        synchronized (f.lock) {
            EventSink[] row = row(irqIndex, start, newSinks.length);
            System.arraycopy(newSinks, 0, row, start, newSinks.length);
            deliverPendingLocked(irqIndex);
        }
    }

    @Override
    public void disable(int irqIndex) {
        synchronized (f.lock) {
            row(irqIndex, 0, 0);
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
            deliverPendingLocked(irqIndex);
        }
    }

    /** Fires through the same gates as a device signal, but on the index the client names. */
    @Override
    public void trigger(int irqIndex, int start, int count) {
        synchronized (f.lock) {
            EventSink[] row = row(irqIndex, start, count);
            for (int v = start; v < start + count; v++) {
                switch (irqIndex) {
                    case VFIO_PCI_MSIX_IRQ_INDEX -> {
                        if (row[v] == null || f.msixFunctionMaskedLocked() || msixVectorMasked(v)) {
                            msix.setPending(v, true);
                        } else {
                            row[v].signal();
                        }
                    }
                    case VFIO_PCI_MSI_IRQ_INDEX -> {
                        if (row[v] == null || msiVectorMasked(v)) {
                            setMsiPending(v, true);
                        } else {
                            row[v].signal();
                        }
                    }
                    case VFIO_PCI_INTX_IRQ_INDEX -> {
                        if (row[v] != null && !masked[irqIndex][v]) {
                            masked[irqIndex][v] = true;
                            row[v].signal();
                        }
                    }
                    default -> {
                        if (row[v] != null && !masked[irqIndex][v]) {
                            row[v].signal();
                        }
                    }
                }
            }
        }
    }

    private EventSink[] row(int irqIndex, int start, int count) {
        if (irqIndex < 0 || irqIndex >= VFIO_PCI_NUM_IRQS) {
            throw new IllegalArgumentException("no irq index " + irqIndex);
        }
        EventSink[] row = sinks[irqIndex];
        if (start < 0 || count < 0 || (long) start + count > row.length) {
            throw new IllegalArgumentException("irq index " + irqIndex + " has " + row.length + " vectors; "
                    + start + "+" + count + " requested");
        }
        return row;
    }

    // ---------------- framework-internal ----------------

    /** After any config write: Function Mask cleared, MSI mask bits cleared, INTx Disable cleared. */
    void configWrittenLocked() {
        fireIntx();
        deliverPendingLocked(VFIO_PCI_MSIX_IRQ_INDEX);
        deliverPendingLocked(VFIO_PCI_MSI_IRQ_INDEX);
    }

    void tableWrite(long offset, int width, long value) {
        synchronized (f.lock) {
            msix.writeTable(offset, width, value);
            deliverPendingLocked(VFIO_PCI_MSIX_IRQ_INDEX);
        }
    }

    long tableRead(long offset, int width) {
        synchronized (f.lock) {
            return msix.readTable(offset, width);
        }
    }

    long pbaRead(long offset, int width) {
        synchronized (f.lock) {
            return msix.readPba(offset, width);
        }
    }

    /** Sends what became deliverable; a pending MSI-X bit waits while MSI-X is off or function-masked. */
    private void deliverPendingLocked(int irqIndex) {
        switch (irqIndex) {
            case VFIO_PCI_MSIX_IRQ_INDEX -> {
                if (!msix.anyPending() || !f.msixEnabledLocked() || f.msixFunctionMaskedLocked()) {
                    return;
                }
                for (int v = 0; v < msix.vectors(); v++) {
                    EventSink s = sinks[VFIO_PCI_MSIX_IRQ_INDEX][v];
                    if (msix.pending(v) && s != null && !msixVectorMasked(v)) {
                        msix.setPending(v, false);
                        s.signal();
                    }
                }
            }
            case VFIO_PCI_MSI_IRQ_INDEX -> {
                if (msiPending == 0 || !f.msiEnabledLocked()) {
                    return;
                }
                for (int v = 0; v < f.msiVectors; v++) {
                    EventSink s = sinks[VFIO_PCI_MSI_IRQ_INDEX][v];
                    if ((msiPending & 1 << v) != 0 && s != null && !msiVectorMasked(v)) {
                        setMsiPending(v, false);
                        s.signal();
                    }
                }
            }
            case VFIO_PCI_INTX_IRQ_INDEX -> fireIntx();
            default -> {
            }
        }
    }

    /** Power-on interrupt state. Sinks and SET_IRQS masks belong to the client and stay. */
    void resetLocked() {
        msix.reset();
        msiPending = 0;
        intxAsserted = false;
    }

    /** Signals that had nowhere to go: no interrupt mode enabled, or a vector the function lacks. */
    long dropped() {
        synchronized (f.lock) {
            return dropped;
        }
    }

    boolean msixPending(int vector) {
        synchronized (f.lock) {
            return msix.pending(vector);
        }
    }
}
