package io.iovalab.control;

import java.nio.file.Path;

/** Where a device server's control socket lives: next to its vfio-user socket, {@code <socket>.ctl}. */
public final class ControlSocket {
    public static final String SUFFIX = ".ctl";

    private ControlSocket() {
    }

    /** The control socket for a device socket; a path that already names a control socket is kept. */
    public static Path of(Path socket) {
        String name = socket.getFileName().toString();
        return name.endsWith(SUFFIX) ? socket : socket.resolveSibling(name + SUFFIX);
    }
}
