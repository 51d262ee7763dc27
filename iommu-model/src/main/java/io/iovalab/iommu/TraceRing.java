package io.iovalab.iommu;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A bounded ring of recent events plus live subscribers. DMA accesses are traced only while
 * someone listens ({@link #dmaEnabled()}), so the data path costs nothing when nobody watches.
 */
public final class TraceRing {
    private final TraceEvent[] ring;
    private final AtomicLong seq = new AtomicLong();
    private final CopyOnWriteArrayList<Consumer<TraceEvent>> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean dmaEnabled;
    /** Asked for by {@link #setDmaEnabled}: a listener leaving must not switch that off. */
    private volatile boolean dmaRequested;

    TraceRing(int capacity) {
        ring = new TraceEvent[capacity];
    }

    public boolean dmaEnabled() {
        return dmaEnabled;
    }

    /** Records DMA accesses too, even with no subscriber (for post-mortem dumps). */
    public synchronized void setDmaEnabled(boolean enabled) {
        dmaRequested = enabled;
        dmaEnabled = enabled || !listeners.isEmpty();
    }

    public synchronized void subscribe(Consumer<TraceEvent> listener) {
        listeners.add(listener);
        dmaEnabled = true;
    }

    public synchronized void unsubscribe(Consumer<TraceEvent> listener) {
        listeners.remove(listener);
        dmaEnabled = dmaRequested || !listeners.isEmpty();
    }

    void record(TraceEvent.Kind kind, long iova, long length, int queue, int cid, long info) {
        record(kind, iova, length, queue, cid, info, System.nanoTime());
    }

    /** With the caller's clock reading: map and unmap have one already, and a reading is not free in a VM. */
    void record(TraceEvent.Kind kind, long iova, long length, int queue, int cid, long info, long nanos) {
        long s = seq.getAndIncrement();
        TraceEvent e = new TraceEvent(s, nanos, kind, iova, length, queue, cid, info);
        synchronized (ring) {
            ring[(int) (s % ring.length)] = e;
        }
        for (Consumer<TraceEvent> l : listeners) {
            l.accept(e);
        }
    }

    /** Events still in the ring, oldest first. */
    public List<TraceEvent> snapshot() {
        List<TraceEvent> out = new ArrayList<>();
        synchronized (ring) {
            long end = seq.get();
            for (long s = Math.max(0, end - ring.length); s < end; s++) {
                TraceEvent e = ring[(int) (s % ring.length)];
                if (e != null && e.seq() == s) {
                    out.add(e);
                }
            }
        }
        return out;
    }
}
