package io.iovalab.iommu;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** The last {@code capacity} faults and how many there were in all. */
public final class FaultLog {
    private final int capacity;
    private final ArrayDeque<Fault> recent;
    private final AtomicLong total = new AtomicLong();

    FaultLog(int capacity) {
        this.capacity = capacity;
        this.recent = new ArrayDeque<>(capacity);
    }

    void add(Fault f) {
        total.incrementAndGet();
        synchronized (recent) {
            if (recent.size() == capacity) {
                recent.removeFirst();
            }
            recent.addLast(f);
        }
    }

    public long total() {
        return total.get();
    }

    public List<Fault> recent() {
        synchronized (recent) {
            return List.copyOf(recent);
        }
    }
}
