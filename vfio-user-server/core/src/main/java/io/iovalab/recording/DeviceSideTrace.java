package io.iovalab.recording;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.TraceEvent;
import io.iovalab.spi.DeviceEvent;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * The device-side trace as recorded and as replayed, and the comparison between the two.
 *
 * <p>What is compared (RECORDING.md, "Trace comparison"): the DMA_MAP/UNMAP sequence, and per
 * queue the ordered commands, completions, data accesses and command-tagged control accesses
 * (PRP lists, SGL segments). Left out because they depend on timing, not on what the guest asked:
 * interrupts (one interrupt covers however many completions a worker pass posted), accesses that
 * belong to no command (SQ entry fetches, CQ entry writes, shadow doorbell and EventIdx polling,
 * whose count depends on how often the worker woke) and injections (not replayed).
 */
public final class DeviceSideTrace {
    private DeviceSideTrace() {
    }

    public static Entry.TraceEntry of(TraceEvent e) {
        String detail = switch (e.kind()) {
            case MAP -> String.format("0x%x+0x%x off 0x%x", e.iova(), e.length(), e.info());
            case UNMAP -> String.format("0x%x+0x%x", e.iova(), e.length());
            case UNMAP_ALL -> "";
            case FAULT -> String.format("0x%x+%d fault %d", e.iova(), e.length(), e.info());
            default -> String.format("0x%x+%d", e.iova(), e.length());
        };
        return new Entry.TraceEntry(e.queue(), e.commandId(), e.kind().name(), detail);
    }

    public static Entry.TraceEntry of(DeviceEvent e) {
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, Object> f : e.fields().entrySet()) {
            if (!b.isEmpty()) {
                b.append(' ');
            }
            b.append(f.getKey()).append('=').append(f.getValue());
        }
        return new Entry.TraceEntry(e.queue(), e.commandId(), e.kind(), b.toString());
    }

    /** True for the events the comparison looks at. */
    public static boolean compared(Entry.TraceEntry t) {
        return switch (t.kind()) {
            case "MAP", "UNMAP", "UNMAP_ALL", "READ", "WRITE", "FAULT", DeviceEvent.COMMAND, DeviceEvent.COMPLETION -> true;
            case "CONTROL_READ", "CONTROL_WRITE" -> t.commandId() != DmaCommand.NO_COMMAND;
            default -> false;
        };
    }

    /** A compared event the device produced itself, not the message thread (DMA_MAP/UNMAP): replay progress. */
    public static boolean deviceWork(Entry.TraceEntry t) {
        return compared(t) && !isMapping(t);
    }

    private static boolean isMapping(Entry.TraceEntry t) {
        return t.kind().equals("MAP") || t.kind().equals("UNMAP") || t.kind().equals("UNMAP_ALL");
    }

    /** The compared events grouped by queue (DMA_MAP/UNMAP under -1), each group in order. */
    public static Map<Integer, List<String>> normalize(List<Entry.TraceEntry> trace) {
        Map<Integer, List<String>> out = new TreeMap<>();
        for (Entry.TraceEntry t : trace) {
            if (!compared(t)) {
                continue;
            }
            int group = isMapping(t) ? -1 : t.queue();
            out.computeIfAbsent(group, g -> new ArrayList<>()).add(line(t));
        }
        return out;
    }

    static String line(Entry.TraceEntry t) {
        return t.kind() + (t.commandId() != DmaCommand.NO_COMMAND ? " cid=" + t.commandId() : "")
                + (t.detail().isEmpty() ? "" : " " + t.detail());
    }

    /** The first difference, or null when both traces are the same under the comparison. */
    public static String firstDifference(List<Entry.TraceEntry> recorded, List<Entry.TraceEntry> replayed) {
        Map<Integer, List<String>> a = normalize(recorded);
        Map<Integer, List<String>> b = normalize(replayed);
        java.util.TreeSet<Integer> groups = new java.util.TreeSet<>(a.keySet());
        groups.addAll(b.keySet());
        for (int g : groups) {
            List<String> x = a.getOrDefault(g, List.of());
            List<String> y = b.getOrDefault(g, List.of());
            String name = g == -1 ? "DMA_MAP/UNMAP sequence" : "queue " + g;
            for (int i = 0; i < Math.max(x.size(), y.size()); i++) {
                String rx = i < x.size() ? x.get(i) : "(nothing: the recorded trace ends here)";
                String ry = i < y.size() ? y.get(i) : "(nothing: the replayed trace ends here)";
                if (!Objects.equals(rx, ry)) {
                    return name + ", event " + i + " of " + x.size() + " recorded / " + y.size() + " replayed:\n  recorded: "
                            + rx + "\n  replayed: " + ry;
                }
            }
        }
        return null;
    }
}
