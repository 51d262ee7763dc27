package io.iovalab.qemu;

import java.nio.file.Path;

/**
 * A bootable guest: kernel image and the initramfs that holds userland, modules and iovalab's
 * /init.
 *
 * @param name          "default" (trixie-backports 7.3), "baseline" (trixie 6.12) or "user"
 * @param kernelVersion the modules directory name, e.g. 7.3.4+deb13-amd64
 */
public record GuestImage(String name, Path kernel, Path initrd, String kernelVersion) {
}
