package io.iovalab.cli;

import io.iovalab.server.DeviceRegistry;
import io.iovalab.spi.DeviceOption;
import io.iovalab.spi.DevicePlugin;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** Lists the device types on the class path with their keys, for writing {@code --device}. */
@Command(name = "devices", description = "List device types and their --device keys.")
final class DevicesCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        for (DevicePlugin p : DeviceRegistry.system().plugins()) {
            System.out.printf("%s — %s%n", p.type(), p.summary());
            for (DeviceOption o : p.options()) {
                System.out.printf("    %-12s %-10s %s%n", o.key(),
                        o.defaultValue() == null ? "(required)" : "[" + o.defaultValue() + "]", o.help());
            }
        }
        return 0;
    }
}
