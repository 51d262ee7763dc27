package io.iovalab.bench.iommu;

import io.iovalab.iommu.IovaSpace;

import java.util.TreeMap;

/** Heap bytes per live 4 KiB map: used heap after a full GC with N maps, minus without, over N. */
public final class HeapPerMapping {
    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        TestMemory mem = new TestMemory();
        long before = used();
        IovaSpace space = new IovaSpace("heap", null);
        for (int i = 0; i < n; i++) {
            space.map(0x1_0000_0000L + 4096L * i, 4096, mem, 0, true, true);
        }
        long withSpace = used();
        TreeMap<Long, long[]> baseline = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            baseline.put(0x1_0000_0000L + 4096L * i, new long[] {4096, 0});
        }
        long withBoth = used();
        double perMap = (double) (withSpace - before) / n;
        double perBaseline = (double) (withBoth - withSpace) / n;
        System.out.printf("heap-per-mapping iovaSpace=%.1f treeMapBaseline=%.1f ratio=%.2f (n=%d, live=%d/%d)%n",
                perMap, perBaseline, perMap / perBaseline, n, space.liveMappings(), baseline.size());
    }

    private static long used() throws InterruptedException {
        for (int i = 0; i < 4; i++) {
            System.gc();
            Thread.sleep(100);
        }
        Runtime rt = Runtime.getRuntime();
        return rt.totalMemory() - rt.freeMemory();
    }
}
