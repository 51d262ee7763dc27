package io.iovalab.iommu;

/**
 * A snapshot of one device's IOVA space.
 *
 * @param maps                        DMA_MAPs accepted
 * @param unmaps                      DMA_UNMAP requests (incl. UNMAP_ALL)
 * @param unmappedMaps                maps removed or split by unmaps
 * @param liveMappings                maps now
 * @param mappedBytes                 bytes mapped now
 * @param mappedBytesHighWater        most bytes ever mapped at once
 * @param faults                      refused accesses
 * @param bytesRead                   data bytes the device read from guest memory
 * @param bytesWritten                data bytes the device wrote to guest memory
 * @param controlBytes                descriptor/queue bytes (PRP lists, SGL segments, rings)
 * @param remoteBytes                 bytes moved by DMA_READ/DMA_WRITE messages
 * @param commands                    commands that moved data
 * @param rangesPerCommand            [i] = commands whose data touched i+1 distinct IOVA ranges (last bucket: more)
 * @param multiPageCommands           commands that moved more than one 4 KiB page
 * @param contiguousMultiPageCommands of those, the ones whose data was one contiguous IOVA range
 * @param mappingLifetimeMicros       log2 histogram of map lifetimes in µs (bucket i: [2^(i-1), 2^i))
 */
public record Statistics(long maps, long unmaps, long unmappedMaps, long liveMappings, long mappedBytes,
                         long mappedBytesHighWater, long faults, long bytesRead, long bytesWritten,
                         long controlBytes, long remoteBytes, long commands, long[] rangesPerCommand,
                         long multiPageCommands, long contiguousMultiPageCommands, long[] mappingLifetimeMicros) {
}
