package io.iovalab.pci;

/**
 * Interrupt delivery of one function. Devices call {@link #signal} from any thread; the server
 * installs the eventfd sinks and masks it receives with SET_IRQS. Thread-safe.
 */
public interface Interrupts {

    /**
     * Raises vector {@code vector}: an MSI-X vector if MSI-X is enabled (its pending bit instead if
     * the function or the vector is masked or the vector has no eventfd; sent once when that
     * ends), else an MSI vector if MSI is enabled (vectors beyond those the guest granted alias
     * onto them), else asserts INTx, which stays asserted until {@link #deassertIntx}. A vector
     * the function does not have, or a signal with no interrupt mode at all, is dropped.
     */
    void signal(int vector);

    /** Level-triggered INTx: the device's condition cleared. */
    void deassertIntx();

    Mode mode();

    enum Mode { NONE, INTX, MSI, MSIX }

    /**
     * SET_IRQS DATA_EVENTFD: replace the sinks of vectors start.. (a null entry de-assigns). When
     * this returns, no thread is signalling a replaced sink any more, so it may be closed.
     */
    void setSinks(int irqIndex, int start, EventSink[] sinks);

    /** SET_IRQS count 0: every vector of the index loses its sink and mask; same guarantee as setSinks. */
    void disable(int irqIndex);

    /** SET_IRQS ACTION_MASK: the vectors' signals become pending (MSI/MSI-X) or wait (INTx). */
    void mask(int irqIndex, int start, int count);

    /** SET_IRQS ACTION_UNMASK: sends what is pending; for INTx, fires again if still asserted. */
    void unmask(int irqIndex, int start, int count);

    /** SET_IRQS DATA_NONE|ACTION_TRIGGER: fire as if the device had, through the same masks. */
    void trigger(int irqIndex, int start, int count);
}
