package io.iovalab.nvme;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/** The guest buffer of a command as (IOVA, length) pieces; bit-bucket pieces have no address. */
final class DataList {
    long[] iova = new long[32];
    long[] length = new long[32];
    boolean[] bucket = new boolean[32];
    int size;
    long total;
    /** One PRP list page as read from the guest; the walk's scratch, reused by every command. */
    final MemorySegment listPage = Arena.ofAuto().allocate(DataPointer.PAGE, 8);

    void clear() {
        size = 0;
        total = 0;
    }

    void add(long address, long n, boolean bitBucket) {
        if (n == 0) {
            return;
        }
        if (size > 0 && !bitBucket && !bucket[size - 1] && iova[size - 1] + length[size - 1] == address) {
            length[size - 1] += n;
        } else {
            if (size == iova.length) {
                iova = Arrays.copyOf(iova, size * 2);
                length = Arrays.copyOf(length, size * 2);
                bucket = Arrays.copyOf(bucket, size * 2);
            }
            iova[size] = address;
            length[size] = n;
            bucket[size] = bitBucket;
            size++;
        }
        total += n;
    }
}
