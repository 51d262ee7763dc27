package io.iovalab.cli;

import java.util.Map;

/**
 * What one workload phase showed from both sides.
 *
 * @param probes           guest-side call counts for the device
 * @param ios              I/Os fio completed
 * @param iops             fio IOPS
 * @param bandwidthKiB     fio bandwidth, KiB/s
 * @param p50Micros        completion latency median
 * @param p99Micros        completion latency 99th percentile
 * @param fioErrors        fio's error count
 * @param dmaMaps          DMA_MAPs the server received during the phase
 * @param dmaUnmaps        DMA_UNMAPs during the phase
 * @param commands         data-moving commands the device saw
 * @param rangesPerCommand [i] = commands whose data touched i+1 distinct IOVA ranges (last bucket: that many or more)
 * @param multiPage        of those, commands larger than one page
 * @param contiguous       of those, commands whose data was one contiguous IOVA range
 * @param faults           IOMMU faults
 * @param bytes            data bytes moved
 * @param prpCommands      NVMe commands whose data pointer was a PRP (list)
 * @param sglCommands      NVMe commands whose data pointer was an SGL
 */
record PhaseResult(String name, Map<String, Long> probes, long ios, double iops, double bandwidthKiB, double p50Micros,
                   double p99Micros, long fioErrors, long dmaMaps, long dmaUnmaps, long commands, long[] rangesPerCommand,
                   long multiPage, long contiguous, long faults, long bytes, long prpCommands, long sglCommands) {

    long probe(String f) {
        return probes.getOrDefault(f, 0L);
    }

    double perIo(long n) {
        return ios == 0 ? 0 : (double) n / ios;
    }
}
