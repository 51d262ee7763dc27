package io.iovalab.mlx5;

/**
 * The command never reached the firmware: a transport error reported in the entry's
 * {@code status_own} bits 7:1 (MLX5_CMD_DELIVERY_STAT_*), with no output written.
 */
final class DeliveryException extends Exception {
    final int status;

    DeliveryException(int status, String message) {
        super(message, null, false, false);
        this.status = status;
    }
}
