package io.iovalab.cli;

import io.iovalab.control.ControlServer;
import io.iovalab.server.DeviceRegistry;
import io.iovalab.server.ServerOptions;
import io.iovalab.server.VfioUserServer;
import io.iovalab.spi.DeviceConfig;
import io.iovalab.spi.DeviceConfigException;
import io.iovalab.web.WebServer;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The iovalab servers of one guest, started before QEMU (which connects at realize), each with
 * its control socket so {@code iovalab inject/trace/inspect} reach it while the guest runs, and
 * all of them behind one web view when a port is given.
 */
final class DeviceServers implements AutoCloseable {
    final List<VfioUserServer> servers = new ArrayList<>();
    final List<ControlServer> controls = new ArrayList<>();
    WebServer web;

    /** {@code webPort} null: no web view. {@code record}: where each device's first session is recorded (FILE, or FILE.NAME with several devices), or null. */
    static DeviceServers start(List<String> devices, Path dir, Integer webPort, Path record) throws IOException, DeviceConfigException {
        DeviceServers d = new DeviceServers();
        DeviceRegistry registry = DeviceRegistry.system();
        try {
            for (int i = 0; i < devices.size(); i++) {
                DeviceConfig config = DeviceConfig.parse(devices.get(i));
                String name = config.type() + i;
                ServerOptions o = new ServerOptions(dir.resolve(name + ".sock"), config, name, 16, 1 << 20, 1 << 20);
                VfioUserServer server = VfioUserServer.start(o, registry);
                d.servers.add(server);
                if (record != null) {
                    server.recordNextSession(devices.size() == 1 ? record : record.resolveSibling(record.getFileName() + "." + name));
                }
                d.controls.add(ControlServer.start(server));
            }
            if (webPort != null) {
                d.web = WebServer.start(d.servers, webPort);
                System.err.println("iovalab: web view " + d.web.url());
            }
        } catch (IOException | DeviceConfigException | RuntimeException e) {
            d.close();
            throw e;
        }
        return d;
    }

    /** The first server of a device type, in --device order. */
    Optional<VfioUserServer> first(String type) {
        return servers.stream().filter(s -> s.options().device().type().equals(type)).findFirst();
    }

    List<Path> sockets() {
        return servers.stream().map(s -> s.options().socket()).toList();
    }

    @Override
    public void close() {
        if (web != null) {
            web.close();
        }
        controls.forEach(ControlServer::close);
        servers.forEach(VfioUserServer::close);
    }
}
