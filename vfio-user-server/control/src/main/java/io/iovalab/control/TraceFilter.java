package io.iovalab.control;

import io.iovalab.iommu.TraceEvent;
import io.iovalab.spi.DeviceEvent;

import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which events a trace subscriber wants: by device name, queue and kind. Evaluated on the
 * thread that produced the event (a device worker, the message thread), so it only compares.
 *
 * @param device null = any
 * @param queue  -1 = any; otherwise events not tied to that queue (maps, unmaps) are left out
 * @param kinds  empty = all
 */
public record TraceFilter(String device, int queue, Set<String> kinds) {
    /** Kinds a trace can carry: the IOMMU model's and the devices'. {@code DMA} stands for the four access kinds. */
    public static final Set<String> KINDS;
    private static final List<String> DMA = List.of("READ", "WRITE", "CONTROL_READ", "CONTROL_WRITE");

    static {
        Set<String> k = new TreeSet<>();
        Arrays.stream(TraceEvent.Kind.values()).forEach(v -> k.add(v.name()));
        k.addAll(List.of(DeviceEvent.COMMAND, DeviceEvent.COMPLETION, DeviceEvent.INTERRUPT, DeviceEvent.INJECTION));
        KINDS = Set.copyOf(k);
    }

    public static final TraceFilter ALL = new TraceFilter(null, -1, Set.of());

    /** Normalizes and checks kinds; an unknown one is an error naming the known ones. */
    public static TraceFilter of(String device, int queue, List<String> kinds) {
        Set<String> out = new LinkedHashSet<>();
        for (String k : kinds) {
            String u = k.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            if (u.equals("DMA")) {
                out.addAll(DMA);
            } else if (KINDS.contains(u)) {
                out.add(u);
            } else {
                throw new IllegalArgumentException("unknown event kind '" + k + "'; kinds: DMA, "
                        + String.join(", ", new TreeSet<>(KINDS)));
            }
        }
        if (queue < -1) {
            throw new IllegalArgumentException("queue " + queue + " (a queue id is 0 or more)");
        }
        return new TraceFilter(device, queue, Set.copyOf(out));
    }

    public boolean accepts(String eventDevice, String kind, int eventQueue) {
        return (device == null || device.equals(eventDevice))
                && (queue < 0 || queue == eventQueue)
                && (kinds.isEmpty() || kinds.contains(kind));
    }
}
