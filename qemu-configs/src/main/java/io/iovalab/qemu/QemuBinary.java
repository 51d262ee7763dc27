package io.iovalab.qemu;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * How to start QEMU here: a system binary, or the trixie-backports build run through its own
 * root's dynamic loader (bookworm's glibc is too old for it, and nothing goes into /usr).
 *
 * @param prefix  argv before QEMU's own arguments
 * @param env     environment to add (module directory)
 * @param version the version line QEMU printed
 */
public record QemuBinary(List<String> prefix, Map<String, String> env, String version) {
}
