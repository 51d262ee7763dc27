package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mbox_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mbox_out;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_CMD_STAT_BAD_INP_LEN_ERR;
import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_CMD_STAT_BAD_OUTP_LEN_ERR;

/**
 * One command as the firmware sees it once the transport is done: the whole input message (the
 * 16 inline bytes followed by the mailbox data) and an output buffer of exactly the length the
 * driver asked for. Handlers read and write fields through the generated {@link Field}s; a field
 * beyond the driver's buffer is the driver's length error, answered with a status, never an
 * exception that escapes.
 */
final class Command {
    final byte[] in;
    final byte[] out;

    Command(byte[] in, int outLength) {
        this.in = in;
        this.out = new byte[outLength];
    }

    int opcode() {
        return (int) mbox_in.opcode.get(in, 0);
    }

    int opMod() {
        return (int) mbox_in.op_mod.get(in, 0);
    }

    int uid() {
        return (int) mbox_in.uid.get(in, 0);
    }

    /** Input field of the command's {@code *_in} struct. */
    long in(Field f) throws CommandException {
        needIn(f, 0);
        return f.get(in, 0);
    }

    /** Input field of a struct nested at byte {@code base} of the input (e.g. a context). */
    long in(int base, Field f) throws CommandException {
        needIn(f, base);
        return f.get(in, base);
    }

    void out(Field f, long value) throws CommandException {
        needOut(f, 0);
        f.set(out, 0, value);
    }

    void out(int base, Field f, long value) throws CommandException {
        needOut(f, base);
        f.set(out, base, value);
    }

    /** Copies {@code bytes} to output byte {@code offset}. */
    void outBytes(int offset, byte[] bytes, int length) throws CommandException {
        if (offset + length > out.length) {
            throw new CommandException(MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, Syndrome.OUTPUT_TOO_SHORT,
                    "output needs " + (offset + length) + " bytes, driver gave " + out.length);
        }
        System.arraycopy(bytes, 0, out, offset, length);
    }

    /** The command's fixed input struct must be there in full. */
    void requireIn(int bytes) throws CommandException {
        if (in.length < bytes) {
            throw new CommandException(MLX5_CMD_STAT_BAD_INP_LEN_ERR, Syndrome.INPUT_TOO_SHORT,
                    "input needs " + bytes + " bytes, driver gave " + in.length);
        }
    }

    void requireOut(int bytes) throws CommandException {
        if (out.length < bytes) {
            throw new CommandException(MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, Syndrome.OUTPUT_TOO_SHORT,
                    "output needs " + bytes + " bytes, driver gave " + out.length);
        }
    }

    private void needIn(Field f, int base) throws CommandException {
        requireIn(base + (f.bit() + f.width() + 7) / 8);
    }

    private void needOut(Field f, int base) throws CommandException {
        requireOut(base + (f.bit() + f.width() + 7) / 8);
    }

    /** Status and syndrome into the common output header (mbox_out). */
    void status(int status, int syndrome) {
        if (out.length >= 8) {
            mbox_out.status.set(out, 0, status);
            mbox_out.syndrome.set(out, 0, syndrome & 0xffffffffL);
        }
    }
}
