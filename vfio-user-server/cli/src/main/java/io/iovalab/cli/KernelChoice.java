package io.iovalab.cli;

import io.iovalab.qemu.Guest;

import java.nio.file.Path;

/** Which kernel a guest boots: a built-in image by name, or the user's bzImage (or tree) and modules. */
record KernelChoice(String image, Path kernel, Path modules) {

    static KernelChoice image(String name) {
        return new KernelChoice(name, null, null);
    }

    static KernelChoice user(Path kernel, Path modules) {
        return new KernelChoice(null, kernel, modules);
    }

    Guest applyTo(Guest g) {
        return kernel != null ? g.userKernel(kernel, modules) : g.image(image);
    }

    /** How the user named it, for headings before the guest reports its release. */
    String label() {
        return kernel != null ? kernel.toString() : "image " + image;
    }
}
