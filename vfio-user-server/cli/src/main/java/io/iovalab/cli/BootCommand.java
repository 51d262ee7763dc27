package io.iovalab.cli;

import io.iovalab.qemu.GuestSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code iovalab boot}: an interactive guest on this terminal's serial console. */
@Command(name = "boot", mixinStandardHelpOptions = true,
        description = {"Boot a guest with iovalab devices and give it this terminal (serial console).",
                "Ctrl-A X leaves QEMU; 'poweroff -f' in the guest ends it."})
final class BootCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Override
    public Integer call() throws Exception {
        Logging.configure(false);
        Path dir = guest.machine.workDir != null ? guest.machine.workDir : Files.createTempDirectory("iovalab-boot");
        try (DeviceServers servers = DeviceServers.start(guest.machine.devices, dir, guest.machine.webPort, guest.machine.record)) {
            var g = guest.guest(dir).interactive(true);
            servers.sockets().forEach(g::vfioUser);
            try (GuestSession s = g.start()) {
                return s.waitForExit();
            }
        }
    }
}
