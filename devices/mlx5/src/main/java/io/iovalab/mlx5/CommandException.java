package io.iovalab.mlx5;

/**
 * A command the firmware refuses: the status (MLX5_CMD_STAT_*) and syndrome go into the output
 * header, the driver maps them to an errno. Cheap (no stack trace): these are guest inputs.
 */
final class CommandException extends Exception {
    final int status;
    final int syndrome;

    CommandException(int status, int syndrome, String message) {
        super(message, null, false, false);
        this.status = status;
        this.syndrome = syndrome;
    }
}
