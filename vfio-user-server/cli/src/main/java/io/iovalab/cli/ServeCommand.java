package io.iovalab.cli;

import io.iovalab.control.ControlServer;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.web.WebServer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code iovalab serve}: one device on one vfio-user socket, until interrupted. */
@Command(name = "serve", mixinStandardHelpOptions = true,
        description = {"Serve one emulated PCI function on a vfio-user socket.",
                "QEMU attaches it with -device '{\"driver\":\"vfio-user-pci\",\"socket\":{\"type\":\"unix\",\"path\":\"PATH\"}}'.",
                "Clients are served one after another; a disconnect resets the device and drops every DMA map.",
                "PATH.ctl is the control socket for iovalab inject, trace and inspect.",
                "Device types and their keys: iovalab devices"})
final class ServeCommand implements Callable<Integer> {

    @Option(names = "--socket", required = true, paramLabel = "PATH",
            description = "UNIX socket to listen on (created with mode 0600; a stale one is replaced).")
    Path socket;

    @Option(names = "--device", required = true, paramLabel = "TYPE[:k=v,...]",
            description = "The device, e.g. nvme:size=1G,lba=4096 or dmacopy.")
    String device;

    @Option(names = "--name", paramLabel = "NAME", description = "Instance name in logs and statistics (default: TYPE0).")
    String name;

    @Option(names = "--max-data-xfer-size", paramLabel = "BYTES", defaultValue = "1048576",
            description = "Largest REGION_READ/WRITE and DMA_READ/WRITE payload (default ${DEFAULT-VALUE}).")
    int maxDataXferSize;

    @Option(names = "--max-msg-fds", paramLabel = "N", defaultValue = "16",
            description = "File descriptors accepted per message (default ${DEFAULT-VALUE}, at most 16).")
    int maxMsgFds;

    @Option(names = "--max-dma-maps", paramLabel = "N", defaultValue = "1048576",
            description = "Live DMA maps allowed at once; more are refused with ENOSPC (default ${DEFAULT-VALUE}).")
    int maxDmaMaps;

    @Option(names = "--web", paramLabel = "PORT",
            description = "Serve the web view and /metrics on http://127.0.0.1:PORT/ (0 = any free port; off unless given).")
    Integer webPort;

    @Option(names = "--record", paramLabel = "FILE",
            description = "Record the first client's session into FILE for iovalab replay (format: RECORDING.md).")
    Path record;

    @Option(names = {"-v", "--verbose"}, description = "Log every message at debug level.")
    boolean verbose;

    @Override
    public Integer call() throws Exception {
        Logging.configure(verbose);
        DeviceConfig config = DeviceConfig.parse(device);
        ServerOptions options = new ServerOptions(socket, config, name != null ? name : config.type() + "0",
                maxMsgFds, maxDataXferSize, maxDmaMaps);
        try (VfioUserServer server = VfioUserServer.start(options, DeviceRegistry.system());
             ControlServer control = ControlServer.start(server);
             WebServer web = webPort == null ? null : WebServer.start(List.of(server), webPort)) {
            if (record != null) {
                server.recordNextSession(record);
            }
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                if (web != null) {
                    web.close();
                }
                control.close();
                server.close();
            }, "iovalab-shutdown"));
            System.err.printf("iovalab: %s (%s) listening on %s, control socket %s%n", options.name(), config, socket,
                    control.path());
            if (web != null) {
                System.err.println("iovalab: web view " + web.url());
            }
            server.awaitClosed();
        }
        return 0;
    }
}
