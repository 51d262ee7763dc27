package io.iovalab.mlx5;

/**
 * Syndromes iovalab puts next to a failure status. Real firmware's syndromes are opaque 32-bit
 * values the driver only prints; these are ours, stable, and say which check failed, so a
 * syndrome in the guest's dmesg or the mlx5_cmd tracepoint can be grepped here. The low 16 bits
 * of {@link #UNKNOWN_OPCODE} carry the opcode, of {@link #UNSUPPORTED_OP_MOD} the op_mod.
 */
final class Syndrome {
    private Syndrome() {
    }

    static final int UNKNOWN_OPCODE = 0x10a50000;
    static final int UNSUPPORTED_OP_MOD = 0x10a60000;
    static final int INPUT_TOO_SHORT = 0x10a70001;
    static final int OUTPUT_TOO_SHORT = 0x10a70002;
    static final int BAD_STATE = 0x10a70003;
    static final int BAD_PARAM = 0x10a70004;
    static final int NO_RESOURCE = 0x10a70005;
    static final int BAD_RESOURCE = 0x10a70006;
    static final int DMA_FAULT = 0x10a70007;
    static final int INTERNAL = 0x10a70008;
    /** The low 16 bits carry the register id. */
    static final int UNKNOWN_REGISTER = 0x10a80000;
}
