package io.iovalab.cli;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Guest-side evidence of the DMA path: fprobes with BTF arguments on the two-step API and on the
 * one-step mappings, each counted by a hist trigger filtered to one PCI device (kernel reference
 * §3.2 recipe (a)). dma_map_sgtable is probed on its own because 6.12's nvme maps multi-segment
 * requests through it without passing dma_map_sg_attrs, so they would otherwise count as nothing.
 */
final class GuestProbes {
    static final List<String> FUNCTIONS = List.of("dma_iova_try_alloc", "dma_iova_link", "dma_iova_sync",
            "dma_iova_unlink", "dma_iova_destroy", "hmm_dma_map_pfn", "dma_map_phys", "dma_map_page_attrs",
            "dma_map_sg_attrs", "dma_map_sgtable");
    /** The ODP path of mlx5_ib: hmm_dma_map_* drive the two-step API one page at a time. */
    static final List<String> ODP = List.of("hmm_dma_map_alloc", "hmm_dma_map_pfn", "dma_iova_try_alloc", "dma_iova_link",
            "dma_iova_sync", "dma_iova_unlink", "hmm_dma_unmap_pfn", "hmm_dma_map_free");

    private GuestProbes() {
    }

    /**
     * Shell that installs the probes (idempotent). A function the kernel does not have (6.12 has
     * no dma_iova_*, 7.x may inline dma_map_page_attrs) gets no probe and counts as never called.
     */
    static String install() {
        return install(FUNCTIONS);
    }

    static String install(List<String> functions) {
        return """
                T=/sys/kernel/tracing
                for f in %s; do
                  [ -d $T/events/iovalab/$f ] || echo "f:iovalab/$f $f devname=dev->kobj.name:string" >> $T/dynamic_events 2>/dev/null || true
                done
                """.formatted(String.join(" ", functions));
    }

    /** Shell that (re)arms the counters for device {@code $BDF}. */
    static String arm() {
        return arm(FUNCTIONS);
    }

    static String arm(List<String> functions) {
        return """
                for f in %s; do
                  [ -d $T/events/iovalab/$f ] || continue
                  echo "!hist:keys=devname" > $T/events/iovalab/$f/trigger 2>/dev/null
                  echo "hist:keys=devname if devname == \\"$BDF\\"" > $T/events/iovalab/$f/trigger
                  echo 1 > $T/events/iovalab/$f/enable
                done
                """.formatted(String.join(" ", functions));
    }

    /** Shell that prints "PROBE name count" lines. */
    static String read() {
        return read(FUNCTIONS);
    }

    static String read(List<String> functions) {
        return """
                for f in %s; do
                  [ -d $T/events/iovalab/$f ] || { echo "PROBE $f 0"; continue; }
                  n=$(sed -n 's/.*hitcount: *\\([0-9]*\\).*/\\1/p' $T/events/iovalab/$f/hist | awk '{s+=$1} END {print s+0}')
                  echo "PROBE $f $n"
                done
                """.formatted(String.join(" ", functions));
    }

    static Map<String, Long> parse(String out) {
        Map<String, Long> m = new LinkedHashMap<>();
        for (String line : out.lines().toList()) {
            String[] p = line.strip().split("\\s+");
            if (p.length == 3 && p[0].equals("PROBE")) {
                m.put(p[1], Long.parseLong(p[2]));
            }
        }
        return m;
    }
}
