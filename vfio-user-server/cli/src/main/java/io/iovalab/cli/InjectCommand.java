package io.iovalab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.iovalab.control.ControlClient;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code iovalab inject}: arm, list or clear faults in a running device. */
@Command(name = "inject", mixinStandardHelpOptions = true,
        description = {"Make a running device misbehave on purpose, to drive the guest driver's error paths.",
                "SPEC is KIND[:key=value,...]; NVMe kinds (see --list for all keys):",
                "  drop-completion[:queue=Q,opcode=OP,count=N]   executed, no completion: the driver times out and aborts",
                "  delay-completion:ms=MS[,queue,opcode,count]   completion posted MS later",
                "  fail-command:status=NAME|0xSCT_SC[,dnr=on,queue,opcode,count]",
                "  drop-interrupt[:queue=CQ,count=N]   delay-interrupt:ms=MS[,queue=CQ,count=N]",
                "  media-error:slba=LBA[,nlb=N,nsid=1,access=read|write|any]   controller-fatal (CSTS.CFS)",
                "Without queue= a fault hits I/O queues only; queue=0 is the admin queue. count=always keeps it armed.",
                "Examples: iovalab inject --socket /tmp/nvme.sock drop-completion:opcode=write",
                "          iovalab inject --socket /tmp/nvme.sock fail-command:status=unrecovered-read-error,opcode=read"})
final class InjectCommand implements Callable<Integer> {
    @Option(names = "--socket", required = true, paramLabel = "PATH", description = "The device's vfio-user socket (or its .ctl).")
    Path socket;

    @ArgGroup(exclusive = true, multiplicity = "1")
    What what;

    static final class What {
        @Parameters(paramLabel = "SPEC", description = "The fault to arm.")
        String spec;

        @Option(names = "--list", description = "List armed faults and the kinds this device supports.")
        boolean list;

        @Option(names = "--clear", paramLabel = "ID|all", description = "Disarm a fault by id, or all of them.")
        String clear;
    }

    @Option(names = "--json", description = "Print the server's answer as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        try (ControlClient c = ControlClient.connect(socket)) {
            JsonNode answer;
            if (what.list) {
                answer = c.request(Map.of("op", "injections"));
            } else if (what.clear != null) {
                answer = what.clear.equals("all") ? c.request(Map.of("op", "clear", "all", true))
                        : c.request(Map.of("op", "clear", "injection", parseId(what.clear)));
            } else {
                answer = c.request(Map.of("op", "inject", "spec", what.spec));
            }
            if (json) {
                System.out.println(answer);
            } else if (what.list) {
                for (JsonNode i : answer.path("injections")) {
                    System.out.println(describe(i));
                }
                System.out.println("kinds:");
                for (JsonNode k : answer.path("kinds")) {
                    System.out.printf("  %-18s keys: %-30s %s%n", k.path("name").asText(), join(k.path("keys")), k.path("help").asText());
                }
            } else if (what.clear != null) {
                System.out.println("cleared " + answer.path("cleared").asInt());
            } else {
                System.out.println("armed " + describe(answer.path("injection")));
            }
        }
        return 0;
    }

    private static long parseId(String s) {
        try {
            return Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--clear " + s + ": an injection id or 'all'");
        }
    }

    static String describe(JsonNode i) {
        long remaining = i.path("remaining").asLong();
        return "injection " + i.path("id").asLong() + ": " + i.path("spec").asText() + " (fired " + i.path("fired").asLong()
                + ", " + (remaining < 0 ? "armed until cleared" : remaining + " to go") + ")";
    }

    private static String join(JsonNode arr) {
        StringBuilder sb = new StringBuilder();
        arr.forEach(n -> sb.append(sb.isEmpty() ? "" : ",").append(n.asText()));
        return sb.isEmpty() ? "-" : sb.toString();
    }
}
