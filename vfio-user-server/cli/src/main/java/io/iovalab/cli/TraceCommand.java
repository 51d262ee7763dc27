package io.iovalab.cli;

import io.iovalab.control.ControlClient;
import io.iovalab.control.TraceFilter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/** {@code iovalab trace}: stream a running device's events until interrupted. */
@Command(name = "trace", mixinStandardHelpOptions = true,
        description = {"Stream what a running device sees and does: DMA_MAP/UNMAP, every DMA access (IOVA, length,",
                "direction, queue and command id), IOMMU faults, NVMe commands and completions, interrupts, injected faults.",
                "Tracing DMA accesses costs the device time; it is off again when the last trace ends."})
final class TraceCommand implements Callable<Integer> {
    @Option(names = "--socket", required = true, paramLabel = "PATH", description = "The device's vfio-user socket (or its .ctl).")
    Path socket;

    @Option(names = "--device", paramLabel = "NAME", description = "Only events of this device instance (e.g. nvme0).")
    String device;

    @Option(names = "--queue", paramLabel = "Q", defaultValue = "-1",
            description = "Only events of this queue (events tied to no queue, such as DMA_MAP, are left out).")
    int queue;

    @Option(names = "--kind", paramLabel = "KIND", split = ",",
            description = "Only these kinds (repeatable or comma-separated): MAP, UNMAP, UNMAP_ALL, READ, WRITE, CONTROL_READ,"
                    + " CONTROL_WRITE, DMA (the four access kinds), FAULT, COMMAND, COMPLETION, INTERRUPT, INJECTION.")
    List<String> kinds = new ArrayList<>();

    @Option(names = "--count", paramLabel = "N", defaultValue = "0", description = "Stop after N events (default: run until interrupted).")
    long count;

    @Option(names = "--json", description = "One JSON object per line instead of text.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        TraceFilter filter;
        try {
            filter = TraceFilter.of(device, queue, kinds);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--kind/--queue: " + e.getMessage());
        }
        AtomicLong seen = new AtomicLong();
        try (ControlClient c = ControlClient.connect(socket)) {
            c.trace(filter, e -> {
                System.out.println(json ? e.toString() : TraceFormat.line(e));
                return count <= 0 || seen.incrementAndGet() < count;
            }, dropped -> System.err.println("iovalab trace: " + dropped + " events dropped (reading too slowly)"));
        }
        System.out.flush();
        return 0;
    }
}
