package io.iovalab.server;

import io.iovalab.spi.DeviceConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/** A server on a temporary socket, closed with the test. */
final class TestServer implements AutoCloseable {
    final Path dir;
    final Path socket;
    final VfioUserServer server;

    TestServer(String device) throws Exception {
        this(device, o -> o);
    }

    /** With options changed from the defaults (limits tests). */
    TestServer(String device, java.util.function.UnaryOperator<ServerOptions> options) throws Exception {
        dir = Files.createTempDirectory("iovalab-test");
        socket = dir.resolve("dev.sock");
        server = VfioUserServer.start(options.apply(ServerOptions.defaults(socket, DeviceConfig.parse(device))),
                DeviceRegistry.system());
    }

    VfioUserClient connect() throws Exception {
        return VfioUserClient.connect(socket);
    }

    @Override
    public void close() throws Exception {
        server.close();
        Files.deleteIfExists(socket);
        Files.deleteIfExists(dir);
    }
}
