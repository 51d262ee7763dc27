package io.iovalab.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Facts about this process that tests and limits need. */
public final class Process {
    private Process() {
    }

    public static int uid() {
        try (Arena a = Arena.ofConfined()) {
            return (int) Libc.GETUID.invokeExact(Libc.errnoBuffer(a));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /** Number of open descriptors, for leak checks (before == after). */
    public static int openFdCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
    }
}
