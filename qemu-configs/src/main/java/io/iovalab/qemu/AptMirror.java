package io.iovalab.qemu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The Debian mirror this machine's apt already uses (deb822 {@code URIs:} or one-line
 * {@code deb URI suite}), so provisioning reaches whatever the machine is allowed to reach and
 * no host name is baked into iovalab.
 */
public final class AptMirror {
    private AptMirror() {
    }

    public static String find() throws IOException {
        return find(Path.of("/etc/apt"));
    }

    static String find(Path etcApt) throws IOException {
        List<Path> files = new ArrayList<>();
        Path list = etcApt.resolve("sources.list");
        if (Files.isRegularFile(list)) {
            files.add(list);
        }
        Path dir = etcApt.resolve("sources.list.d");
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(p -> p.toString().endsWith(".sources") || p.toString().endsWith(".list")).sorted().forEach(files::add);
            }
        }
        for (Path f : files) {
            String m = parse(Files.readAllLines(f));
            if (m != null) {
                return m;
            }
        }
        throw new IOException("no Debian mirror found in " + etcApt + "/sources.list{,.d}: add a 'deb' source for Debian"
                + " (iovalab provisions QEMU and guest images from it)");
    }

    /** The first URI of a stanza or line that serves the Debian archive (not security, not third-party). */
    static String parse(List<String> lines) {
        for (String raw : lines) {
            String line = raw.strip();
            if (line.startsWith("#") || line.isEmpty()) {
                continue;
            }
            String uri = null;
            if (line.startsWith("URIs:")) {
                uri = line.substring(5).strip().split("\\s+")[0];
            } else if (line.startsWith("deb ")) {
                for (String tok : line.substring(4).strip().split("\\s+")) {
                    if (tok.startsWith("[")) {
                        continue;
                    }
                    if (tok.contains("://")) {
                        uri = tok;
                    }
                    break;
                }
            }
            if (uri != null && uri.matches("[a-z]+://.*/debian/?") && !uri.contains("security")) {
                return uri.endsWith("/") ? uri.substring(0, uri.length() - 1) : uri;
            }
        }
        return null;
    }
}
