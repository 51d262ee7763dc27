package io.iovalab.nvme;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Accessors over one fetched 64-byte submission queue entry. */
final class Sqe {
    static final int SIZE = 64;
    final MemorySegment raw;

    Sqe(MemorySegment raw) {
        this.raw = raw;
    }

    int dw(int n) {
        return raw.get(ValueLayout.JAVA_INT_UNALIGNED, 4L * n);
    }

    int opcode() {
        return dw(0) & 0xff;
    }

    /** PSDT: 0 = PRP, 1 or 2 = SGL. */
    int psdt() {
        return (dw(0) >>> 14) & 3;
    }

    int cid() {
        return dw(0) >>> 16;
    }

    int nsid() {
        return dw(1);
    }

    long prp1() {
        return raw.get(ValueLayout.JAVA_LONG_UNALIGNED, 24);
    }

    long prp2() {
        return raw.get(ValueLayout.JAVA_LONG_UNALIGNED, 32);
    }

    /** SGL1 descriptor: address, length, type byte. */
    long sglAddress() {
        return prp1();
    }

    int sglLength() {
        return dw(8);
    }

    int sglType() {
        return raw.get(ValueLayout.JAVA_BYTE, 39) & 0xff;
    }

    long slba() {
        return raw.get(ValueLayout.JAVA_LONG_UNALIGNED, 40);
    }
}
