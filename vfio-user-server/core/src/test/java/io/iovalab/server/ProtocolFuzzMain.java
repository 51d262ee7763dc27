package io.iovalab.server;

import io.iovalab.spi.DeviceConfig;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The long protocol fuzzing run (bench/protocol-fuzz.sh): {@code MESSAGES [SEED [DEVICE...]]}.
 * Prints one result line per device; exits 1 on the first broken promise, with its seed and message.
 */
public final class ProtocolFuzzMain {
    private ProtocolFuzzMain() {
    }

    public static void main(String[] args) throws Exception {
        long messages = args.length > 0 ? Long.parseLong(args[0]) : 10_000_000L;
        long seed = args.length > 1 ? Long.parseLong(args[1]) : System.nanoTime();
        String[] devices = args.length > 2 ? java.util.Arrays.copyOfRange(args, 2, args.length)
                : new String[] {"nvme:backend=null,size=64M,queues=4,mqes=64", "dmacopy:vectors=4"};
        boolean ok = true;
        for (String device : devices) {
            Path dir = Files.createTempDirectory("iovalab-fuzz");
            Path socket = dir.resolve("fuzz.sock");
            try (VfioUserServer server = VfioUserServer.start(ServerOptions.defaults(socket, DeviceConfig.parse(device)),
                    DeviceRegistry.system())) {
                long perDevice = messages / devices.length;
                ProtocolFuzzRun.Result r = new ProtocolFuzzRun(server, socket, seed, 5_000).run(perDevice, 1_000_000);
                boolean clean = r.fdsAfter() == r.fdsBefore() && server.stats().internalErrors() == 0
                        && server.stats().deviceThreadExceptions() == 0;
                System.out.println(device + ": " + r + (clean ? "" : " — LEAK OR EXCEPTION"));
                ok &= clean;
            } catch (AssertionError e) {
                System.out.println(device + ": FAILED " + e.getMessage());
                ok = false;
            } finally {
                Files.deleteIfExists(socket);
                Files.deleteIfExists(dir);
            }
        }
        System.exit(ok ? 0 : 1);
    }
}
