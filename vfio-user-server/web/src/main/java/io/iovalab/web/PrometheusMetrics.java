package io.iovalab.web;

import io.iovalab.iommu.Statistics;
import io.iovalab.server.VfioUserServer;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.ToLongFunction;

/** {@code /metrics}: per-device counters and gauges in the Prometheus text exposition format 0.0.4. */
final class PrometheusMetrics {
    private record Metric(String name, String type, String help, ToLongFunction<Sample> value) {
    }

    private record Sample(String device, Statistics stats, long messages) {
    }

    private static final List<Metric> METRICS = List.of(
            new Metric("iovalab_dma_maps_total", "counter", "DMA_MAP requests accepted", s -> s.stats.maps()),
            new Metric("iovalab_dma_unmaps_total", "counter", "DMA_UNMAP requests, UNMAP_ALL included", s -> s.stats.unmaps()),
            new Metric("iovalab_dma_live_mappings", "gauge", "IOVA mappings now", s -> s.stats.liveMappings()),
            new Metric("iovalab_dma_mapped_bytes", "gauge", "bytes of IOVA space mapped now", s -> s.stats.mappedBytes()),
            new Metric("iovalab_dma_mapped_bytes_high_water", "gauge", "most bytes of IOVA space ever mapped at once",
                    s -> s.stats.mappedBytesHighWater()),
            new Metric("iovalab_iommu_faults_total", "counter", "device accesses the IOMMU model refused", s -> s.stats.faults()),
            new Metric("iovalab_commands_total", "counter", "device commands that moved data", s -> s.stats.commands()),
            new Metric("iovalab_dma_read_bytes_total", "counter", "data bytes the device read from guest memory", s -> s.stats.bytesRead()),
            new Metric("iovalab_dma_written_bytes_total", "counter", "data bytes the device wrote to guest memory",
                    s -> s.stats.bytesWritten()),
            new Metric("iovalab_dma_control_bytes_total", "counter", "queue and descriptor bytes the device moved",
                    s -> s.stats.controlBytes()),
            new Metric("iovalab_vfio_user_messages_total", "counter", "vfio-user messages received", s -> s.messages));

    private PrometheusMetrics() {
    }

    static byte[] render(List<VfioUserServer> servers) {
        // one snapshot per device, so every line of a device comes from the same instant
        List<Sample> samples = servers.stream()
                .map(s -> new Sample(s.options().name(), s.iovaSpace().statistics(), s.stats().messages())).toList();
        StringBuilder b = new StringBuilder();
        for (Metric m : METRICS) {
            b.append("# HELP ").append(m.name).append(' ').append(m.help).append('\n');
            b.append("# TYPE ").append(m.name).append(' ').append(m.type).append('\n');
            for (Sample s : samples) {
                b.append(m.name).append("{device=\"").append(escape(s.device)).append("\"} ").append(m.value.applyAsLong(s)).append('\n');
            }
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Label values escape backslash, double quote and newline; device names are user-chosen. */
    static String escape(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
