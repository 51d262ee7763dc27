package io.iovalab.pci;

/**
 * Interrupt delivery of one function. Devices call {@link #signal}; the server installs the
 * eventfd sinks and masks it receives with SET_IRQS.
 */
public interface Interrupts {

    /**
     * Raises vector {@code vector}: an MSI-X vector if MSI-X is enabled (pending bit if the function
     * is masked or the vector has no eventfd yet), else an MSI vector if MSI is enabled, else INTx.
     */
    void signal(int vector);

    /** Level-triggered INTx: the device's condition cleared. */
    void deassertIntx();

    Mode mode();

    enum Mode { NONE, INTX, MSI, MSIX }

    /** SET_IRQS DATA_EVENTFD: replace the sinks of vectors start.. (a null entry de-assigns). */
    void setSinks(int irqIndex, int start, EventSink[] sinks);

    /** SET_IRQS count 0: every vector of the index loses its sink and mask. */
    void disable(int irqIndex);

    void mask(int irqIndex, int start, int count);

    void unmask(int irqIndex, int start, int count);

    /** SET_IRQS DATA_NONE|ACTION_TRIGGER: fire as if the device had. */
    void trigger(int irqIndex, int start, int count);
}
