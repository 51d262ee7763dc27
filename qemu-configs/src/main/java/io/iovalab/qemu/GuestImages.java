package io.iovalab.qemu;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Builds and caches guest images. An initramfs is three cpio archives back to back (the kernel
 * unpacks them in order): the userland (Debian trixie with fio, nvme-cli, rdma-core tools), the
 * kernel's modules trimmed to what the topologies need, and iovalab's /init. Each part is cached
 * on its own, so a user kernel reuses the userland and a changed /init rebuilds nothing else.
 */
public final class GuestImages {
    /** Userland packages; not the rdma-core package, whose units autoload ib_ipoib. */
    static final List<String> USERLAND = List.of("busybox", "kmod", "pciutils", "fio", "nvme-cli", "util-linux",
            "ibverbs-utils", "ibverbs-providers", "perftest", "procps",
            // pyverbs: the ODP exerciser (ibv_advise_mr is an inline over the provider table, awkward from ctypes)
            "python3-pyverbs");
    /** Modules the topologies and devices need; their dependencies come along. */
    static final List<String> MODULES = List.of("nvme", "virtio-iommu", "9p", "9pnet_virtio", "mlx5_ib", "ib_uverbs",
            "ib_umad", "rdma_ucm", "virtio_blk");
    private static final String USERLAND_RECIPE = "userland trixie v2 " + USERLAND;

    private final Cache cache;
    private final Progress progress;

    public GuestImages(Cache cache, Progress progress) {
        this.cache = cache;
        this.progress = progress;
    }

    /** The trixie-backports 7.3 kernel: has the two-step DMA API. */
    public GuestImage defaultImage() throws IOException {
        return distro("default", "trixie-backports");
    }

    /** Trixie's 6.12 kernel: no two-step DMA API (the A/B baseline). */
    public GuestImage baselineImage() throws IOException {
        return distro("baseline", "trixie");
    }

    public GuestImage named(String name) throws IOException {
        return switch (name) {
            case "default" -> defaultImage();
            case "baseline" -> baselineImage();
            default -> throw new IOException("unknown image '" + name + "' (default = 7.3, baseline = 6.12)");
        };
    }

    /**
     * A user kernel: {@code kernel} is a bzImage or a kernel build tree (then
     * arch/x86/boot/bzImage and its modules are used); {@code modules} holds lib/modules/VERSION
     * (as from make modules_install INSTALL_MOD_PATH=DIR) or is that VERSION directory itself.
     */
    public GuestImage user(Path kernel, Path modules) throws IOException {
        Path bz = kernel;
        if (Files.isDirectory(kernel)) {
            bz = kernel.resolve("arch/x86/boot/bzImage");
            if (!Files.isRegularFile(bz)) {
                throw new IOException(kernel + " is a directory but has no arch/x86/boot/bzImage: build the kernel first");
            }
            if (modules == null) {
                modules = installTreeModules(kernel);
            }
        }
        if (!Files.isRegularFile(bz)) {
            throw new IOException("kernel image " + bz + " does not exist");
        }
        if (modules == null) {
            throw new IOException("a user kernel needs --modules DIR (lib/modules/VERSION from its modules_install)");
        }
        Path versionDir = moduleVersionDir(modules);
        String version = versionDir.getFileName().toString();
        Path userland = userland();
        Path mods = modulesCpio("user", versionDir, version);
        Path entry = cache.entry("image-user", bz.toAbsolutePath() + " " + Files.getLastModifiedTime(bz) + " " + mods);
        return assemble("user", entry, bz, version, userland, mods);
    }

    private GuestImage distro(String name, String suite) throws IOException {
        Path userland = userland();
        Path kroot = kernelPackage(suite);
        Path modulesRoot = kroot.resolve("root/usr/lib/modules");
        String version;
        try (Stream<Path> s = Files.list(modulesRoot)) {
            version = s.map(p -> p.getFileName().toString()).sorted().reduce((a, b) -> b)
                    .orElseThrow(() -> new IOException("no kernel modules in " + modulesRoot));
        }
        Path vmlinuz = kroot.resolve("root/boot/vmlinuz-" + version);
        if (!Files.isRegularFile(vmlinuz)) {
            vmlinuz = modulesRoot.resolve(version).resolve("vmlinuz");
        }
        Path mods = modulesCpio(name, modulesRoot.resolve(version), version);
        return assemble(name, cache.entry("image-" + name, kroot + " " + mods + " " + userland), vmlinuz, version, userland, mods);
    }

    /** Concatenates userland + modules + /init into one initrd (QEMU takes one file). */
    private GuestImage assemble(String name, Path entry, Path kernel, String version, Path userland, Path mods)
            throws IOException {
        byte[] init = initCpio();
        String key = "init " + Cache.hash(new String(init, StandardCharsets.ISO_8859_1));
        Path dir = entry.resolveSibling(entry.getFileName() + "-" + Cache.hash(key));
        Path initrd = dir.resolve("initrd.cpio");
        Path kcopy = dir.resolve("vmlinuz");
        if (!Cache.complete(dir)) {
            Files.createDirectories(dir);
            try (OutputStream out = Files.newOutputStream(initrd)) {
                Files.copy(userland, out);
                Files.copy(mods, out);
                out.write(init);
            }
            Files.copy(kernel, kcopy, StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(dir.resolve("version"), version);
            Cache.markComplete(dir, key);
        }
        return new GuestImage(name, kcopy, initrd, version);
    }

    private Path userland() throws IOException {
        Path entry = cache.entry("userland", USERLAND_RECIPE);
        Path cpio = entry.resolve("userland.cpio");
        if (Cache.complete(entry)) {
            return cpio;
        }
        HostTools.ensure(cache, progress);
        String mirror = AptMirror.find();
        String step = "build the guest userland (trixie: " + String.join(", ", USERLAND) + ")";
        progress.step(step);
        long t0 = System.currentTimeMillis();
        QemuProvisioner.deleteTree(entry);
        Path root = entry.resolve("root");
        Files.createDirectories(entry);
        Commands.run(step, List.of("mmdebstrap", "--variant=essential", "--mode=root", "--format=directory",
                "--include=" + String.join(",", USERLAND),
                "--aptopt=APT::Install-Recommends \"false\"",
                "--dpkgopt=path-exclude=/usr/share/doc/*", "--dpkgopt=path-exclude=/usr/share/man/*",
                "--dpkgopt=path-exclude=/usr/share/locale/*", "--dpkgopt=path-exclude=/usr/share/info/*",
                "trixie", root.toString(), "deb " + mirror + " trixie main"),
                cache.root().resolve("logs/userland.log"), 1800);
        // what a guest never needs: package caches, hardware database, python's test suite and
        // GUI/bootstrap parts (python itself runs the pyverbs exerciser), and a /init of its own
        Commands.run(step, List.of("sh", "-c", "cd '" + root + "' && rm -rf var/cache/* var/lib/apt/lists/* var/log/* "
                + "usr/lib/udev/hwdb.bin usr/lib/udev/hwdb.d usr/lib/python3.*/test usr/lib/python3.*/ensurepip "
                + "usr/lib/python3.*/idlelib usr/lib/python3.*/tkinter usr/lib/python3.*/lib2to3 boot/* init usr/lib/modules/*"),
                cache.root().resolve("logs/userland-trim.log"), 300);
        cpio(step, root, cpio);
        QemuProvisioner.deleteTree(root);
        Cache.markComplete(entry, USERLAND_RECIPE);
        progress.done(step, System.currentTimeMillis() - t0);
        return cpio;
    }

    /** The kernel package of {@code suite}, extracted (no maintainer scripts, so no initramfs-tools run). */
    private Path kernelPackage(String suite) throws IOException {
        String recipe = "kernel " + suite + " v1";
        Path entry = cache.entry("kernel-" + suite, recipe);
        if (Cache.complete(entry)) {
            return entry;
        }
        HostTools.ensure(cache, progress);
        String mirror = AptMirror.find();
        String step = "fetch the " + suite + " kernel";
        progress.step(step);
        long t0 = System.currentTimeMillis();
        QemuProvisioner.deleteTree(entry);
        Files.createDirectories(entry);
        List<String> argv = new ArrayList<>(List.of("mmdebstrap", "--variant=extract", "--mode=root",
                "--format=directory", "--include=linux-image-amd64",
                "--aptopt=APT::Install-Recommends \"false\""));
        List<String> sources = new ArrayList<>(List.of("deb " + mirror + " trixie main"));
        if (suite.equals("trixie-backports")) {
            argv.add("--aptopt=APT::Default-Release \"trixie-backports\"");
            sources.add("deb " + mirror + " trixie-backports main");
        }
        argv.addAll(List.of("trixie", entry.resolve("root").toString()));
        argv.addAll(sources);
        Commands.run(step, argv, cache.root().resolve("logs/kernel-" + suite + ".log"), 1800);
        Cache.markComplete(entry, recipe);
        progress.done(step, System.currentTimeMillis() - t0);
        return entry;
    }

    /** The modules iovalab's guests load, with their dependency closure, as a cpio. */
    private Path modulesCpio(String name, Path versionDir, String version) throws IOException {
        Path dep = versionDir.resolve("modules.dep");
        if (!Files.isRegularFile(dep)) {
            // packages extracted without their scripts, and fresh build trees, have no modules.dep yet
            HostTools.ensure(cache, progress);
            Path base = versionDir.getParent().getParent().getParent();
            Commands.run("depmod " + version, List.of("depmod", "-b", base.toString(), version),
                    cache.root().resolve("logs/depmod.log"), 300);
        }
        String recipe = "modules " + versionDir.toAbsolutePath() + " " + Files.getLastModifiedTime(dep) + " " + MODULES;
        Path entry = cache.entry("modules-" + name, recipe);
        Path cpio = entry.resolve("modules.cpio");
        if (Cache.complete(entry)) {
            return cpio;
        }
        QemuProvisioner.deleteTree(entry);
        Path stage = entry.resolve("stage");
        Path target = stage.resolve("usr/lib/modules").resolve(version);
        Files.createDirectories(target);
        Set<String> closure = closure(dep, MODULES);
        for (String rel : closure) {
            Path dst = target.resolve(rel);
            Files.createDirectories(dst.getParent());
            Files.copy(versionDir.resolve(rel), dst, StandardCopyOption.REPLACE_EXISTING);
        }
        try (Stream<Path> s = Files.list(versionDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("modules.")).toList()) {
                Files.copy(p, target.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        cpio("pack modules " + version, stage, cpio);
        QemuProvisioner.deleteTree(stage);
        Cache.markComplete(entry, recipe);
        return cpio;
    }

    /** Module files (paths relative to the version directory) needed for {@code wanted}. */
    static Set<String> closure(Path modulesDep, List<String> wanted) throws IOException {
        Map<String, List<String>> deps = new HashMap<>();
        Map<String, String> byName = new HashMap<>();
        for (String line : Files.readAllLines(modulesDep)) {
            int colon = line.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String mod = line.substring(0, colon);
            String rest = line.substring(colon + 1).strip();
            deps.put(mod, rest.isEmpty() ? List.of() : List.of(rest.split("\\s+")));
            String file = mod.substring(mod.lastIndexOf('/') + 1);
            byName.put(file.substring(0, file.indexOf('.')).replace('-', '_'), mod);
        }
        Set<String> out = new LinkedHashSet<>();
        Deque<String> todo = new ArrayDeque<>();
        for (String w : wanted) {
            String m = byName.get(w.replace('-', '_'));
            if (m != null) {
                todo.add(m); // absent = built into the kernel
            }
        }
        while (!todo.isEmpty()) {
            String m = todo.pop();
            if (out.add(m)) {
                todo.addAll(deps.getOrDefault(m, List.of()));
            }
        }
        return out;
    }

    private Path installTreeModules(Path tree) throws IOException {
        Path dest = cache.entry("tree-modules", tree.toAbsolutePath() + " "
                + Files.getLastModifiedTime(tree.resolve("arch/x86/boot/bzImage")));
        if (!Cache.complete(dest)) {
            QemuProvisioner.deleteTree(dest);
            Files.createDirectories(dest);
            Commands.run("make modules_install", List.of("make", "-C", tree.toString(), "modules_install",
                    "INSTALL_MOD_PATH=" + dest, "INSTALL_MOD_STRIP=1"), cache.root().resolve("logs/modules-install.log"), 1800);
            Cache.markComplete(dest, tree.toString());
        }
        return dest;
    }

    /** DIR/lib/modules/VERSION, DIR/usr/lib/modules/VERSION, DIR/VERSION or DIR itself. */
    static Path moduleVersionDir(Path modules) throws IOException {
        for (Path candidate : List.of(modules.resolve("lib/modules"), modules.resolve("usr/lib/modules"), modules)) {
            if (Files.isRegularFile(candidate.resolve("modules.dep")) || Files.isRegularFile(candidate.resolve("modules.order"))) {
                return candidate;
            }
            if (Files.isDirectory(candidate)) {
                try (Stream<Path> s = Files.list(candidate)) {
                    List<Path> versions = s.filter(p -> Files.isRegularFile(p.resolve("modules.order"))
                            || Files.isRegularFile(p.resolve("modules.dep"))).toList();
                    if (versions.size() == 1) {
                        return versions.getFirst();
                    }
                }
            }
        }
        throw new IOException("no kernel modules (modules.dep or modules.order) under " + modules);
    }

    private static void cpio(String step, Path dir, Path out) throws IOException {
        Files.createDirectories(out.getParent());
        Commands.run(step, List.of("sh", "-c", "cd '" + dir + "' && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet > '"
                + out + "'"), out.resolveSibling("cpio.log"), 600);
    }

    /** iovalab's /init as a one-file newc archive. */
    static byte[] initCpio() throws IOException {
        byte[] script;
        try (InputStream in = GuestImages.class.getResourceAsStream("guest-init.sh")) {
            script = in.readAllBytes();
        }
        return NewcArchive.singleFile("init", 0100755, script);
    }
}
