package io.iovalab.pci;

/** Where an interrupt goes: the server implements it by writing 1 to an eventfd from SET_IRQS. */
@FunctionalInterface
public interface EventSink {
    void signal();
}
