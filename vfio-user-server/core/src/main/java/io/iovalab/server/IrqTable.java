package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.pci.EventSink;
import io.iovalab.pci.Interrupts;

import java.util.HashMap;
import java.util.Map;

/**
 * The eventfds SET_IRQS handed us, per (irq index, vector), so a replaced or de-assigned one is
 * closed exactly once. The routing itself lives in the PCI framework's {@link Interrupts}.
 */
final class IrqTable {
    private final Interrupts interrupts;
    private final Map<Long, EventFdSink> sinks = new HashMap<>();

    IrqTable(Interrupts interrupts) {
        this.interrupts = interrupts;
    }

    /** Installs {@code fds[i]} (null = de-assign) as vectors start..start+n-1 of {@code index}. */
    void assign(int index, int start, Fd[] fds) {
        EventSink[] newSinks = new EventSink[fds.length];
        EventFdSink[] created = new EventFdSink[fds.length];
        for (int i = 0; i < fds.length; i++) {
            if (fds[i] != null) {
                created[i] = new EventFdSink(fds[i], "irq index " + index + " vector " + (start + i));
                newSinks[i] = created[i];
            }
        }
        // the framework switches to the new sinks first; only then are the old ones closed
        interrupts.setSinks(index, start, newSinks);
        for (int i = 0; i < fds.length; i++) {
            EventFdSink old = created[i] != null ? sinks.put(key(index, start + i), created[i]) : sinks.remove(key(index, start + i));
            if (old != null) {
                old.close();
            }
        }
    }

    /** SET_IRQS count 0: every vector of the index goes. */
    void disable(int index) {
        interrupts.disable(index);
        sinks.entrySet().removeIf(e -> {
            if ((int) (e.getKey() >>> 32) == index) {
                e.getValue().close();
                return true;
            }
            return false;
        });
    }

    void closeAll() {
        for (int index = 0; index < io.iovalab.pci.IrqIndex.VFIO_PCI_NUM_IRQS; index++) {
            disable(index);
        }
    }

    int open() {
        return sinks.size();
    }

    private static long key(int index, int vector) {
        return ((long) index << 32) | (vector & 0xffffffffL);
    }
}
