package io.iovalab.cli;

import io.iovalab.recording.DeviceSideTrace;
import io.iovalab.recording.Entry;
import io.iovalab.recording.Recording;
import io.iovalab.recording.RecordingReader;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.SessionReplayer;
import io.iovalab.spi.DeviceConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code iovalab replay FILE}: a recorded session against a fresh device, no QEMU; exit 0 when the trace is the same. */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay a session recorded with --record against a fresh device (no QEMU) and compare the",
                "device-side trace with the recorded one: DMA_MAP/UNMAP in order, and per queue the commands,",
                "completions and command DMA accesses in order. Exit 0 when they are identical, 1 when not."})
final class ReplayCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE", description = "A recording made with --record.")
    Path file;

    @Option(names = "--device", paramLabel = "TYPE[:k=v,...]",
            description = "Replay on this device instead of the recorded one (a recorded file backend becomes backend=null).")
    String device;

    @Option(names = "--trace-out", paramLabel = "FILE",
            description = "Write the replayed device-side trace (the compared events, grouped by queue) to FILE.")
    Path traceOut;

    @Option(names = "--recorded-trace-out", paramLabel = "FILE", description = "Write the recorded trace the same way.")
    Path recordedTraceOut;

    @Option(names = "--gate-timeout", paramLabel = "MS", defaultValue = "10000",
            description = "Longest wait for the device to reach the recorded progress before a request (default ${DEFAULT-VALUE}).")
    long gateMillis;

    @Override
    public Integer call() throws Exception {
        Logging.configure(false);
        Recording rec = RecordingReader.read(file);
        SessionReplayer.Result r = SessionReplayer.replay(rec, device != null ? DeviceConfig.parse(device) : null,
                DeviceRegistry.system(), gateMillis);
        if (traceOut != null) {
            write(traceOut, r.replayed());
        }
        if (recordedTraceOut != null) {
            write(recordedTraceOut, r.recorded());
        }
        PrintStream out = System.out;
        out.printf("replayed %s: %s, %d requests, %d guest-memory reads served from the recording, %d not found%n", file,
                rec.header().device(), r.requests(), r.servedReads(), r.missedReads());
        Map<Integer, List<String>> groups = DeviceSideTrace.normalize(r.recorded());
        for (var g : groups.entrySet()) {
            out.printf("  %-24s %d events%n", g.getKey() == -1 ? "DMA_MAP/UNMAP" : "queue " + g.getKey(), g.getValue().size());
        }
        if (r.stalls() > 0) {
            out.printf("  the device lagged behind the recording %d times (see the log)%n", r.stalls());
        }
        if (r.identical()) {
            out.println("device-side trace: IDENTICAL to the recorded one");
            return 0;
        }
        out.println("device-side trace: DIFFERENT — " + r.difference());
        return 1;
    }

    private static void write(Path p, List<Entry.TraceEntry> trace) throws java.io.IOException {
        StringBuilder b = new StringBuilder();
        for (var g : DeviceSideTrace.normalize(trace).entrySet()) {
            String name = g.getKey() == -1 ? "dma-map" : "queue " + g.getKey();
            for (String line : g.getValue()) {
                b.append(name).append(": ").append(line).append('\n');
            }
        }
        Files.writeString(p, b);
    }
}
