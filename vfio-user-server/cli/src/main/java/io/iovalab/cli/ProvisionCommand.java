package io.iovalab.cli;

import io.iovalab.qemu.Cache;
import io.iovalab.qemu.GuestImage;
import io.iovalab.qemu.GuestImages;
import io.iovalab.qemu.Progress;
import io.iovalab.qemu.QemuBinary;
import io.iovalab.qemu.QemuProvisioner;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code iovalab provision}: QEMU and both guest images, ahead of time. */
@Command(name = "provision", mixinStandardHelpOptions = true,
        description = "Provision QEMU (>= 10.1) and the default (7.3) and baseline (6.12) guest images into ~/.cache/iovalab.")
final class ProvisionCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        Cache cache = Cache.standard();
        Progress p = Progress.to(System.out);
        long t0 = System.currentTimeMillis();
        QemuBinary q = QemuProvisioner.ensure(cache, p);
        System.out.println("QEMU:     " + q.version());
        GuestImages images = new GuestImages(cache, p);
        GuestImage d = images.defaultImage();
        System.out.println("default:  " + d.kernelVersion() + "  " + d.initrd());
        GuestImage b = images.baselineImage();
        System.out.println("baseline: " + b.kernelVersion() + "  " + b.initrd());
        System.out.printf("provisioned in %.1f s (cache: %s)%n", (System.currentTimeMillis() - t0) / 1000.0, cache.root());
        return 0;
    }
}
