package io.iovalab.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The front door: provision what is missing, then boot.
 * <pre>
 * try (GuestSession g = Guest.builder().topology("intel-iommu").vfioUser(socket).start()) {
 *     ExecResult r = g.run("lspci -nn", Duration.ofSeconds(30));
 * }
 * </pre>
 */
public final class Guest {
    private Cache cache = Cache.standard();
    private Progress progress = Progress.to(System.err);
    private String imageName = "default";
    private Path userKernel;
    private Path userModules;
    private String topology = "intel-iommu";
    private Accel accel = Accel.AUTO;
    private int memoryMiB = 2048;
    private int cpus = 2;
    private final List<Path> sockets = new ArrayList<>();
    private final List<String> extraArgs = new ArrayList<>();
    private String kernelArgs = "";
    private Path workDir;
    private Duration bootTimeout = Duration.ofSeconds(180);
    private boolean interactive;

    public static Guest builder() {
        return new Guest();
    }

    public Guest cache(Cache c) {
        cache = c;
        return this;
    }

    public Guest progress(Progress p) {
        progress = p;
        return this;
    }

    /** "default" (7.3) or "baseline" (6.12). */
    public Guest image(String name) {
        imageName = name;
        return this;
    }

    /** A user kernel (bzImage or build tree) and its modules directory (may be null for a tree). */
    public Guest userKernel(Path kernel, Path modules) {
        userKernel = kernel;
        userModules = modules;
        return this;
    }

    public Guest topology(String nameOrPath) {
        topology = nameOrPath;
        return this;
    }

    public Guest accel(Accel a) {
        accel = a;
        return this;
    }

    public Guest memoryMiB(int m) {
        if (m < 1024) {
            // the initramfs (userland + modules, ~150 MiB) is unpacked into RAM
            throw new IllegalArgumentException("guest memory " + m + " MiB: iovalab's guests need at least 1024 MiB");
        }
        memoryMiB = m;
        return this;
    }

    public Guest cpus(int n) {
        cpus = n;
        return this;
    }

    public Guest vfioUser(Path socket) {
        sockets.add(socket);
        return this;
    }

    public Guest qemuArgs(String... args) {
        extraArgs.addAll(List.of(args));
        return this;
    }

    public Guest kernelArgs(String args) {
        kernelArgs = args;
        return this;
    }

    public Guest workDir(Path dir) {
        workDir = dir;
        return this;
    }

    public Guest bootTimeout(Duration d) {
        bootTimeout = d;
        return this;
    }

    public Guest interactive(boolean on) {
        interactive = on;
        return this;
    }

    /** Provisions QEMU and the image if needed and returns the spec, without booting. */
    public GuestSpec spec() throws IOException {
        QemuBinary qemu = QemuProvisioner.ensure(cache, progress);
        GuestImages images = new GuestImages(cache, progress);
        GuestImage image = userKernel != null ? images.user(userKernel, userModules) : images.named(imageName);
        Path dir = workDir != null ? workDir : Files.createTempDirectory("iovalab-guest");
        return new GuestSpec(qemu, image, Topology.load(topology), accel, memoryMiB, cpus, sockets, extraArgs, kernelArgs,
                dir, bootTimeout, interactive);
    }

    public GuestSession start() throws IOException {
        return GuestSession.start(spec());
    }
}
