package io.iovalab.mlx5.ifc;

/**
 * One field of an mlx5_ifc.h struct: {@code bit} counts from the most significant bit of byte 0
 * of the struct (the MLX5_SET/MLX5_GET convention), {@code width} in bits. The firmware interface
 * is big-endian, so a field is read MSB first whatever its alignment.
 */
public record Field(int bit, int width) {

    /** Byte offset of a byte-aligned field (nested structs, arrays, flexible arrays). */
    public int byteOffset() {
        if ((bit & 7) != 0) {
            throw new IllegalStateException("field at bit " + bit + " is not byte-aligned");
        }
        return bit >>> 3;
    }

    /** Byte size of a byte-sized field. */
    public int byteSize() {
        return width >>> 3;
    }

    /** The field of a struct that sits at {@code base} bytes into {@code buf}; widths up to 64 bits. */
    public long get(byte[] buf, int base) {
        if (width > 64) {
            throw new IllegalStateException("field of " + width + " bits: read it as bytes");
        }
        long v = 0;
        int first = base * 8 + bit;
        if ((first & 7) == 0 && (width & 7) == 0) {
            for (int i = 0; i < width / 8; i++) {
                v = v << 8 | (buf[(first >>> 3) + i] & 0xff);
            }
            return v;
        }
        for (int i = 0; i < width; i++) {
            int b = first + i;
            v = v << 1 | ((buf[b >>> 3] >>> (7 - (b & 7))) & 1);
        }
        return v;
    }

    /** Stores the low {@code width} bits of {@code value}; the other bits of the bytes stay. */
    public void set(byte[] buf, int base, long value) {
        if (width > 64) {
            throw new IllegalStateException("field of " + width + " bits: write it as bytes");
        }
        int first = base * 8 + bit;
        for (int i = width - 1; i >= 0; i--) {
            int b = first + i;
            int mask = 1 << (7 - (b & 7));
            if ((value & 1) != 0) {
                buf[b >>> 3] |= (byte) mask;
            } else {
                buf[b >>> 3] &= (byte) ~mask;
            }
            value >>>= 1;
        }
    }
}
