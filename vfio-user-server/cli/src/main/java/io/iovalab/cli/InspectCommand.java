package io.iovalab.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.iovalab.control.ControlClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

/** {@code iovalab inspect}: a running device's state, its IOMMU map and its armed faults. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {"Show a running device: its IOMMU map, per-queue state (head, tail, phase, outstanding commands",
                "and their age), interrupt state, statistics, IOMMU faults and armed fault injections."})
final class InspectCommand implements Callable<Integer> {
    private static final int MAX_MAPPINGS_SHOWN = 64;

    @Option(names = "--socket", required = true, paramLabel = "PATH", description = "The device's vfio-user socket (or its .ctl).")
    Path socket;

    @Option(names = "--json", description = "Everything, as one JSON document.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        JsonNode i;
        try (ControlClient c = ControlClient.connect(socket)) {
            i = c.inspect();
        }
        if (json) {
            System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(i));
            return 0;
        }
        System.out.printf("%s  %s  (%s)%n", i.path("device").asText(), i.path("config").asText(), i.path("socket").asText());
        JsonNode state = i.path("state");
        System.out.println("state:");
        state.fields().forEachRemaining(f -> {
            if (!f.getKey().equals("queues")) {
                System.out.printf("  %-18s %s%n", f.getKey(), f.getValue().isTextual() ? f.getValue().asText() : f.getValue());
            }
        });
        for (JsonNode q : state.path("queues")) {
            StringBuilder sb = new StringBuilder("  queue");
            q.fields().forEachRemaining(f -> {
                if (!f.getKey().equals("outstanding")) {
                    sb.append(' ').append(f.getKey()).append('=').append(f.getValue().isTextual() ? f.getValue().asText() : f.getValue());
                }
            });
            System.out.println(sb);
            for (JsonNode o : q.path("outstanding")) {
                System.out.printf("    outstanding cid %d %s age %s ms%s%n", o.path("cid").asInt(), o.path("opcode").asText(),
                        o.path("ageMillis").asText("?"), o.has("heldBy") ? " (held by " + o.path("heldBy").asText() + ")" : "");
            }
        }
        JsonNode iommu = i.path("iommu");
        JsonNode maps = iommu.path("mappings");
        System.out.printf("IOMMU map: %d mappings%n", maps.size());
        int shown = 0;
        for (JsonNode m : maps) {
            if (shown++ == MAX_MAPPINGS_SHOWN) {
                System.out.printf("  ... %d more (--json shows all)%n", maps.size() - MAX_MAPPINGS_SHOWN);
                break;
            }
            System.out.printf("  %18s-%-18s %s %10d B  %s+0x%x  age %d ms%n", m.path("iova").asText(), m.path("end").asText(),
                    m.path("access").asText(), m.path("size").asLong(), m.path("backing").asText(), m.path("offset").asLong(),
                    m.path("ageMillis").asLong());
        }
        JsonNode st = iommu.path("statistics");
        System.out.printf("IOMMU statistics: maps %d, unmaps %d, live %d (%d B), faults %d, read %d B, written %d B, commands %d%n",
                st.path("maps").asLong(), st.path("unmaps").asLong(), st.path("liveMappings").asLong(), st.path("mappedBytes").asLong(),
                st.path("faults").asLong(), st.path("bytesRead").asLong(), st.path("bytesWritten").asLong(), st.path("commands").asLong());
        for (JsonNode f : iommu.path("recentFaults")) {
            System.out.printf("  fault %s at 0x%x (access 0x%x+%d, q%d cid %d) %s%n", f.path("kind").asText(), f.path("faultIova").asLong(),
                    f.path("iova").asLong(), f.path("length").asLong(), f.path("queue").asInt(), f.path("commandId").asInt(),
                    f.path("detail").asText());
        }
        JsonNode inj = i.path("injections");
        System.out.printf("injections armed: %d%n", inj.size());
        inj.forEach(x -> System.out.println("  " + InjectCommand.describe(x)));
        return 0;
    }
}
