package io.iovalab.wire;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * The 16-byte vfio-user header (struct vfio_user_header), little-endian.
 *
 * @param id      sender-owned message id; a reply echoes it
 * @param command {@link Command} number
 * @param size    whole message size, header included
 * @param flags   bits 0-3 type (0 command, 1 reply), {@link #NO_REPLY}, {@link #ERROR}
 * @param error   errno, meaningful with {@link #ERROR}
 */
public record Header(int id, int command, int size, int flags, int error) {
    public static final int SIZE = 16;
    public static final int TYPE_MASK = 0xf;
    public static final int TYPE_COMMAND = 0;
    public static final int TYPE_REPLY = 1;
    /** VFIO_USER_F_NO_REPLY */
    public static final int NO_REPLY = 0x10;
    /** VFIO_USER_F_ERROR */
    public static final int ERROR = 0x20;

    public static Header decode(ByteBuffer b) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = le.position();
        return new Header(Short.toUnsignedInt(le.getShort(p)), Short.toUnsignedInt(le.getShort(p + 2)),
                le.getInt(p + 4), le.getInt(p + 8), le.getInt(p + 12));
    }

    public void encode(ByteBuffer b) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int p = le.position();
        le.putShort(p, (short) id).putShort(p + 2, (short) command).putInt(p + 4, size).putInt(p + 8, flags)
                .putInt(p + 12, error);
    }

    public boolean isReply() {
        return (flags & TYPE_MASK) == TYPE_REPLY;
    }

    public boolean noReply() {
        return (flags & NO_REPLY) != 0;
    }

    public boolean isError() {
        return (flags & ERROR) != 0;
    }

    /** Size stored as unsigned: a negative int means a claim above 2 GiB. */
    public long sizeUnsigned() {
        return Integer.toUnsignedLong(size);
    }

    @Override
    public String toString() {
        return Command.describe(command) + "(id=" + id + (isReply() ? ", reply" : "") + (noReply() ? ", no-reply" : "")
                + (isError() ? ", error=" + error : "") + ", size=" + Integer.toUnsignedString(size) + ")";
    }
}
