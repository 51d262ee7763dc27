package io.iovalab.cli;

import io.iovalab.qemu.ExecResult;
import io.iovalab.qemu.GuestSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/** {@code iovalab run ... -- SCRIPT}: boot, run, power off; the script's exit code is ours. */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Boot a guest with iovalab devices, run a script in it and return its exit code.",
                "SCRIPT is a file, or the words after -- as one shell command."})
final class RunCommand implements Callable<Integer> {
    @Mixin
    GuestOptions guest;

    @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "600", description = "Script timeout (default ${DEFAULT-VALUE}).")
    long timeout;

    @Parameters(paramLabel = "SCRIPT", arity = "1..*")
    List<String> script;

    @Override
    public Integer call() throws Exception {
        Logging.configure(false);
        String text = script.size() == 1 && Files.isRegularFile(Path.of(script.getFirst()))
                ? Files.readString(Path.of(script.getFirst())) : String.join(" ", script);
        Path dir = guest.machine.workDir != null ? guest.machine.workDir : Files.createTempDirectory("iovalab-run");
        try (DeviceServers servers = DeviceServers.start(guest.machine.devices, dir, guest.machine.webPort, guest.machine.record)) {
            var g = guest.guest(dir);
            servers.sockets().forEach(g::vfioUser);
            try (GuestSession s = g.start()) {
                ExecResult r = s.run(text, Duration.ofSeconds(timeout));
                System.out.print(r.stdout());
                System.err.print(r.stderr());
                return r.exitCode();
            }
        }
    }
}
