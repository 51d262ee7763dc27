package io.iovalab.nvme;

/** One namespace: its id, its LBA format and its blocks. */
final class Namespace {
    final int nsid;
    final Backend backend;
    /** index into the LBA formats of Identify Namespace: 0 = 512 B, 1 = 4 KiB */
    volatile int lbaFormat;

    Namespace(int nsid, Backend backend, int lbaFormat) {
        this.nsid = nsid;
        this.backend = backend;
        this.lbaFormat = lbaFormat;
    }

    int lbaShift() {
        return lbaFormat == 0 ? 9 : 12;
    }

    long blocks() {
        return backend.size() >> lbaShift();
    }
}
