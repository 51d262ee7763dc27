package io.iovalab.server;

import io.iovalab.spi.DeviceConfig;

import java.nio.file.Path;

/**
 * How one server instance runs: its socket, its device, and the limits it advertises in the
 * VERSION reply and enforces.
 */
public record ServerOptions(Path socket, DeviceConfig device, String name, int maxMsgFds,
                            int maxDataXferSize, int maxDmaMaps) {
    public ServerOptions {
        if (maxMsgFds < 1 || maxMsgFds > 16) {
            throw new IllegalArgumentException("max-msg-fds must be 1..16 (QEMU refuses more), got " + maxMsgFds);
        }
        if (maxDataXferSize < 4096 || maxDataXferSize > (64 << 20)) {
            throw new IllegalArgumentException("max-data-xfer-size must be 4 KiB..64 MiB, got " + maxDataXferSize);
        }
        if (maxDmaMaps < 1) {
            throw new IllegalArgumentException("max-dma-maps must be positive, got " + maxDmaMaps);
        }
    }

    public static ServerOptions defaults(Path socket, DeviceConfig device) {
        return new ServerOptions(socket, device, device.type() + "0", 16, 1 << 20, 1 << 20);
    }
}
