package io.iovalab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code iovalab compare}: the standard workload on two kernels, one after the other (the machine
 * has room for one TCG guest at a time), side by side in a table and in one HTML report.
 */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = {"Run the standard workload on two kernels and compare them: a table here and one",
                "self-contained HTML report with plots.",
                "Give two --kernel, each a built-in image name or a bzImage (or tree) with its --modules;",
                "with none, the baseline image (6.12) is compared with the default image (7.3).",
                "Exit 0 when both runs are clean (no IOMMU faults, no I/O errors)."})
final class CompareCommand implements Callable<Integer> {
    /**
     * Both devices: NVMe's IOVA layout is the same on 6.12 and 7.3 (one IOVA allocation per request
     * either way), while mlx5 ODP's is not (7.3 links an MR's pages into one allocation, 6.12 maps
     * each page on its own), so the device-side difference only shows with mlx5 attached.
     */
    private static final List<String> DEVICES = List.of(StandardRun.DEFAULT_DEVICE, StandardRun.DEFAULT_MLX5);

    /**
     * One side of the comparison. A single option names both kinds of kernel because picocli
     * starts a new side only when an option repeats: {@code --image A --kernel B} would be one side.
     */
    static final class Side {
        @Option(names = "--kernel", paramLabel = "NAME|BZIMAGE|TREE", required = true,
                description = {"A kernel to compare (give two): baseline (6.12), default (7.3), or your bzImage or",
                        "kernel build tree; write ./baseline for a file of that name."})
        String kernel;

        @Option(names = "--modules", paramLabel = "DIR",
                description = "Modules for the --kernel before it: DIR/lib/modules/VERSION (modules_install's INSTALL_MOD_PATH).")
        Path modules;

        KernelChoice choice() {
            if (BUILT_IN.contains(kernel)) {
                if (modules != null) {
                    throw new IllegalArgumentException("--modules belongs to a bzImage, not to the built-in image " + kernel);
                }
                return KernelChoice.image(kernel);
            }
            return KernelChoice.user(Path.of(kernel), modules);
        }
    }

    static final List<String> BUILT_IN = List.of("baseline", "default");

    @Spec
    CommandSpec spec;

    @ArgGroup(exclusive = false, multiplicity = "0..2")
    List<Side> sides = new ArrayList<>();

    @Mixin
    MachineOptions machine;

    @Option(names = "--report", paramLabel = "FILE", description = "Where the HTML report goes (default: compare-report.html in the work dir).")
    Path report;

    @Option(names = "--json", description = "Print the comparison as JSON.")
    boolean json;

    /** The two kernels, in the order given; the built-in example when none is. */
    List<KernelChoice> kernels() {
        if (sides.isEmpty()) {
            return List.of(KernelChoice.image("baseline"), KernelChoice.image("default"));
        }
        if (sides.size() != 2) {
            throw new ParameterException(spec.commandLine(),
                    "compare needs two kernels (or none, for baseline vs default); got one: " + sides.getFirst().choice().label());
        }
        return sides.stream().map(Side::choice).toList();
    }

    @Override
    public Integer call() throws Exception {
        List<KernelChoice> kernels = kernels();
        Logging.configure(false);
        System.setProperty("org.slf4j.simpleLogger.log.io.iovalab", "warn");
        Path dir = machine.workDir != null ? machine.workDir : Files.createTempDirectory("iovalab-compare");
        Path out = report != null ? report : dir.resolve("compare-report.html");
        KernelRun a = StandardRun.run(machine, kernels.get(0), dir.resolve("a"), DEVICES);
        KernelRun b = StandardRun.run(machine, kernels.get(1), dir.resolve("b"), DEVICES);
        List<String> summary = CompareSummary.lines(a, b);
        if (out.toAbsolutePath().getParent() != null) {
            Files.createDirectories(out.toAbsolutePath().getParent());
        }
        Files.writeString(out, CompareReport.html(a, b, summary), StandardCharsets.UTF_8);
        boolean clean = a.clean() && b.clean();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kernels", List.of(describe(a), describe(b)));
            m.put("summary", summary);
            m.put("report", out.toAbsolutePath().toString());
            m.put("clean", clean);
            System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m));
            return clean ? 0 : 1;
        }
        System.out.printf("%niovalab compare — %s vs %s, topology %s, %s behind the vIOMMU%n%n", a.kernel(), b.kernel(),
                machine.topology, a.hasNvme() && a.mlx5() != null ? "nvme and mlx5" : a.hasNvme() ? "nvme" : "mlx5");
        if (a.hasNvme() && b.hasNvme()) {
            ResultTable.print(System.out, ResultTable.columns(a, b));
            System.out.println();
        }
        if (a.mlx5() != null && b.mlx5() != null) {
            OdpTable.print(System.out, List.of(a.kernel(), b.kernel()), List.of(a.mlx5(), b.mlx5()));
            System.out.println();
        }
        summary.forEach(s -> System.out.println("  " + s));
        System.out.println("  report: " + out.toAbsolutePath());
        return clean ? 0 : 1;
    }

    private static Map<String, Object> describe(KernelRun r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("label", r.label());
        m.put("kernel", r.kernel());
        m.put("phases", r.phases());
        m.put("twoStepPath", r.twoStepPath());
        m.put("mlx5", r.mlx5());
        m.put("mlx5TwoStepPath", r.mlx5() != null && r.mlx5().twoStepPath());
        m.put("clean", r.clean());
        return m;
    }
}
