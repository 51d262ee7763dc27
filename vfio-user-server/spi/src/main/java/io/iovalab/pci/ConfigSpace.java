package io.iovalab.pci;

/**
 * Config-space bytes with per-bit write and write-1-to-clear masks. Everything not writable is
 * read-only; the power-on image is kept for resets. Not thread-safe: the function's lock guards it.
 */
final class ConfigSpace {
    final byte[] data;
    private final byte[] writable;
    private final byte[] w1c;
    private byte[] powerOn;

    ConfigSpace(int size) {
        data = new byte[size];
        writable = new byte[size];
        w1c = new byte[size];
    }

    int size() {
        return data.length;
    }

    /** Takes the current contents as the power-on image. */
    void freeze() {
        powerOn = data.clone();
    }

    void reset() {
        System.arraycopy(powerOn, 0, data, 0, data.length);
    }

    int get8(int off) {
        return data[off] & 0xff;
    }

    int get16(int off) {
        return get8(off) | get8(off + 1) << 8;
    }

    int get32(int off) {
        return get16(off) | get16(off + 2) << 16;
    }

    void set8(int off, int v) {
        data[off] = (byte) v;
    }

    void set16(int off, int v) {
        set8(off, v);
        set8(off + 1, v >> 8);
    }

    void set32(int off, int v) {
        set16(off, v);
        set16(off + 2, v >> 16);
    }

    void writableMask(int off, int bytes, long mask) {
        for (int i = 0; i < bytes; i++) {
            writable[off + i] = (byte) (mask >> (8 * i));
        }
    }

    void w1cMask(int off, int bytes, long mask) {
        for (int i = 0; i < bytes; i++) {
            w1c[off + i] = (byte) (mask >> (8 * i));
        }
    }

    /** Applies a write byte by byte through the masks: RW bits take the value, RW1C bits clear on 1. */
    void write(int off, byte[] src, int srcOff, int count) {
        for (int i = 0; i < count; i++) {
            int o = off + i;
            int v = src[srcOff + i];
            int b = (data[o] & ~writable[o]) | (v & writable[o]);
            b &= ~(v & w1c[o]);
            data[o] = (byte) b;
        }
    }
}
