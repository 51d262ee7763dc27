package io.iovalab.qemu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Provisioned artifacts under {@code ~/.cache/iovalab} (or {@code $IOVALAB_CACHE}), each in a
 * directory named after a hash of its inputs and marked complete only once fully built, so an
 * interrupted build is redone and a changed recipe builds a new entry.
 */
public final class Cache {
    private final Path root;

    public Cache(Path root) {
        this.root = root;
    }

    public static Cache standard() {
        String env = System.getenv("IOVALAB_CACHE");
        return new Cache(env != null && !env.isBlank() ? Path.of(env)
                : Path.of(System.getProperty("user.home"), ".cache", "iovalab"));
    }

    public Path root() {
        return root;
    }

    /** The directory for {@code kind} built from {@code inputs}. */
    public Path entry(String kind, String inputs) {
        return root.resolve(kind + "-" + hash(inputs));
    }

    public static boolean complete(Path entry) {
        return Files.isRegularFile(entry.resolve(".complete"));
    }

    public static void markComplete(Path entry, String inputs) throws IOException {
        Files.writeString(entry.resolve(".complete"), inputs, StandardCharsets.UTF_8);
    }

    static String hash(String s) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(d, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
