package io.iovalab.os;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Facts about this process that access checks, tests and limits need. */
public final class Process {
    private Process() {
    }

    public static int pid() {
        return call(Libc.GETPID);
    }

    public static int uid() {
        return call(Libc.GETUID);
    }

    public static int gid() {
        return call(Libc.GETGID);
    }

    private static int call(MethodHandle h) {
        // these calls cannot fail; the errno buffer only satisfies the common handle shape
        try (Arena a = Arena.ofConfined()) {
            return (int) h.invokeExact(Libc.errnoBuffer(a));
        } catch (Throwable t) {
            throw Libc.rethrow(t);
        }
    }

    /**
     * Number of open descriptors of this process, for leak checks (before == after). The
     * directory handle used for counting is open while counting, identically every time.
     */
    public static int openFdCount() {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return (int) s.count();
        } catch (IOException e) {
            throw new IllegalStateException("cannot list /proc/self/fd", e);
        }
    }
}
