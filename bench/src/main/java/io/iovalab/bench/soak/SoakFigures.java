package io.iovalab.bench.soak;

import io.iovalab.iommu.Statistics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** What a soak run counted, and whether it was clean. */
final class SoakFigures {
    final Duration requested;
    Duration elapsed = Duration.ZERO;
    String kernel = "";
    int rounds;
    int failedRounds;
    long reads;
    long writes;
    long bytes;
    long fioErrors;
    int resets;
    int failedResets;
    int rebinds;
    String guestErrors = "0";
    String guestErrorLines = "";
    boolean serving;
    long maps;
    long unmaps;
    long liveMappings;
    long faults;
    Object commands = "?";
    Object deviceErrors = "?";
    Object lastError = "";
    Object enables = "?";
    long enablesAtStart;
    private final List<String> notes = new ArrayList<>();

    SoakFigures(Duration requested) {
        this.requested = requested;
    }

    void note(String s) {
        notes.add(s);
        System.err.println("soak: " + s);
    }

    void device(Statistics s, Map<String, Object> inspect) {
        maps = s.maps();
        unmaps = s.unmaps();
        liveMappings = s.liveMappings();
        faults = s.faults();
        commands = inspect.get("commands");
        deviceErrors = inspect.get("errors");
        lastError = inspect.get("lastError");
        enables = inspect.get("enables");
    }

    /**
     * Clean: every round verified, every reset and rebind went through, no IOMMU fault, and the
     * device still answers, and the device saw exactly the resets the guest made. Error completions are listed, not judged: a reset legitimately aborts
     * what was in flight, and the driver retries it.
     */
    boolean clean() {
        return failedRounds == 0 && fioErrors == 0 && failedResets == 0 && faults == 0 && serving && notes.isEmpty()
                && enablesMatch();
    }

    /** Every reset the guest asked for reached the device, and no reset happened that nobody asked for. */
    private boolean enablesMatch() {
        return enables instanceof Number n && n.longValue() == enablesAtStart + resets + rebinds;
    }

    String table() {
        StringBuilder b = new StringBuilder();
        row(b, "duration", "%.1f min (requested %.1f)".formatted(elapsed.toMillis() / 60e3, requested.toMillis() / 60e3));
        row(b, "guest kernel", kernel + ", intel-iommu strict");
        row(b, "fio write+verify rounds", rounds + " (failed " + failedRounds + ")");
        row(b, "I/Os (reads incl. verify / writes)", (reads + writes) + " (" + reads + " / " + writes + ")");
        row(b, "bytes moved", String.valueOf(bytes));
        row(b, "fio errors", String.valueOf(fioErrors));
        row(b, "controller resets", resets + " (failed " + failedResets + ")");
        row(b, "driver unbind+bind", String.valueOf(rebinds));
        row(b, "device CC.EN 0->1", enables + " (expected " + enablesAtStart + " at boot + resets + rebinds = "
                + (enablesAtStart + resets + rebinds) + ")");
        row(b, "DMA_MAP / DMA_UNMAP", maps + " / " + unmaps + " (live at end " + liveMappings + ")");
        row(b, "IOMMU faults", String.valueOf(faults));
        row(b, "device commands", String.valueOf(commands));
        row(b, "device error completions", deviceErrors + (String.valueOf(lastError).isEmpty() ? "" : " (last: " + lastError + ")"));
        row(b, "guest nvme error lines", guestErrors);
        if (!guestErrorLines.isBlank()) {
            guestErrorLines.lines().forEach(l -> b.append("    ").append(l).append('\n'));
        }
        row(b, "device serves after the soak", serving ? "yes" : "NO");
        notes.forEach(n -> b.append("  note: ").append(n).append('\n'));
        b.append("verdict: ").append(clean() ? "CLEAN" : "NOT CLEAN").append('\n');
        return b.toString();
    }

    private static void row(StringBuilder b, String k, String v) {
        b.append("  %-36s %s%n".formatted(k, v));
    }
}
