package io.iovalab.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code iovalab demo}: the main job. Boots the kernel behind a vIOMMU with iovalab's NVMe
 * controller and mlx5 function, runs 4 KiB and 64 KiB O_DIRECT reads and the ODP exerciser, and
 * answers "did the kernel take the two-step path, and what did each device see?" from both sides.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Provision what is missing, boot the default 7.3 guest behind intel-iommu with iovalab's NVMe",
                "controller and mlx5 function, run the standard workload and print the verdict. Exit 0 only when it is clean.",
                "With --device, only the given devices are attached and only their sections run."})
final class DemoCommand implements Callable<Integer> {
    static final List<String> DEVICES = List.of(StandardRun.DEFAULT_DEVICE, StandardRun.DEFAULT_MLX5);

    @Mixin
    GuestOptions guest;

    @Option(names = "--json", description = "Print the verdict as JSON.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Logging.configure(false);
        System.setProperty("org.slf4j.simpleLogger.log.io.iovalab", "warn");
        Path dir = guest.machine.workDir != null ? guest.machine.workDir : Files.createTempDirectory("iovalab-demo");
        long t0 = System.currentTimeMillis();
        KernelRun run = StandardRun.run(guest.machine, guest.kernelChoice(), dir, DEVICES);
        boolean pass = run.clean() && run.twoStepEverywhere();
        if (json) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("kernel", run.kernel());
            m.put("phases", run.phases());
            m.put("mlx5", run.mlx5());
            m.put("twoStepPath", run.twoStepPath());
            m.put("mlx5TwoStepPath", run.mlx5() != null && run.mlx5().twoStepPath());
            m.put("clean", run.clean());
            System.out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m));
            return pass ? 0 : 1;
        }
        System.out.printf("%niovalab verdict — kernel %s, topology %s, %s behind the vIOMMU (%.0f s)%n%n", run.kernel(),
                guest.machine.topology, devices(run), (System.currentTimeMillis() - t0) / 1000.0);
        if (run.hasNvme()) {
            ResultTable.print(System.out, ResultTable.columns(run));
            System.out.println();
        }
        if (run.mlx5() != null) {
            OdpTable.print(System.out, run.mlx5());
            System.out.println();
        }
        if (run.hasNvme()) {
            System.out.println("  nvme: " + Verdict.twoStep(run));
        }
        if (run.mlx5() != null) {
            System.out.println("  mlx5: " + Verdict.twoStep(run.mlx5()));
        }
        System.out.println("  " + Verdict.cleanliness(run));
        System.out.println(pass ? "  verdict: CLEAN, two-step path taken"
                : "  verdict: " + (run.clean() ? "clean, but the two-step path was not taken" : "NOT CLEAN"));
        return pass ? 0 : 1;
    }

    private static String devices(KernelRun run) {
        return run.hasNvme() && run.mlx5() != null ? "nvme and mlx5" : run.hasNvme() ? "nvme" : "mlx5";
    }
}
