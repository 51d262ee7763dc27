package io.iovalab.cli;

import java.util.Map;

/**
 * What the ODP exerciser showed on the mlx5 function, from both sides.
 *
 * @param probes          guest-side call counts for mlx5_0's PCI device ({@link GuestProbes#ODP})
 * @param programOk       the guest program registered, prefetched, invalidated and deregistered
 * @param umrWqes         UMR WQEs the device executed
 * @param mttLoaded       MTT (XLT) entries the device loaded
 * @param mttZapped       MTT entries the device zapped
 * @param wqeErrors       WQEs the device completed with an error CQE
 * @param commandsFailed  firmware commands that failed
 * @param dmaMaps         DMA_MAPs the server received during the run
 * @param dmaUnmaps       DMA_UNMAPs during the run
 * @param faults          IOMMU faults
 * @param mttEntries      MTT entries the device held for the ODP MR after the prefetch (-1: the MR was not found)
 * @param mttIovaRanges   distinct contiguous (ascending) IOVA ranges among those entries (-1: not found)
 */
record OdpResult(Map<String, Long> probes, boolean programOk, long umrWqes, long mttLoaded, long mttZapped,
                 long wqeErrors, long commandsFailed, long dmaMaps, long dmaUnmaps, long faults,
                 long mttEntries, long mttIovaRanges) {

    long probe(String f) {
        return probes.getOrDefault(f, 0L);
    }

    boolean clean() {
        return programOk && faults == 0 && wqeErrors == 0 && commandsFailed == 0;
    }

    /** ODP pages go hmm_dma_map_pfn → dma_iova_link only when the kernel has the two-step API. */
    boolean twoStepPath() {
        return probe("hmm_dma_map_pfn") > 0 && probe("dma_iova_link") > 0;
    }
}
