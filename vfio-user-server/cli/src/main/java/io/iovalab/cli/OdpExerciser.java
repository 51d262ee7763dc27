package io.iovalab.cli;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The guest-side ODP program (a pyverbs script, resource {@code odp-exerciser.py}). Public and
 * kept as one resource because the demo and the mlx5 ODP guest test must exercise the same
 * driver path; two copies would drift.
 */
public final class OdpExerciser {
    /** Pages the demo registers: enough for every probe to fire, few enough to take seconds under TCG. */
    static final int DEMO_PAGES = 32;

    private OdpExerciser() {
    }

    public static String source() {
        try (InputStream in = OdpExerciser.class.getResourceAsStream("odp-exerciser.py")) {
            if (in == null) {
                throw new IllegalStateException("odp-exerciser.py missing from the cli jar");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Shell that starts the program at {@code /host/odp.py} in the background and returns once it
     * has prefetched its MR (all pages present in the MTT), so the caller can read the device's MTT
     * then; {@link #finish()} lets it go on. Prints its log so far.
     */
    static String startToPrefetched(int pages) {
        return """
                rm -f /tmp/odp.*
                touch /tmp/odp.go.dropped
                setsid timeout 120 python3 /host/odp.py %d > /tmp/odp.log 2>&1 < /dev/null &
                echo $! > /tmp/odp.pid
                for i in $(seq 900); do [ -e /tmp/odp.prefetched ] && break; kill -0 $(cat /tmp/odp.pid) 2>/dev/null || break; sleep 0.1; done
                cat /tmp/odp.log
                """.formatted(pages);
    }

    /** Shell that releases a program started by {@link #startToPrefetched} and waits for it; prints its log and "ODPRC n". */
    static String finish() {
        return """
                touch /tmp/odp.go.prefetched
                pid=$(cat /tmp/odp.pid)
                for i in $(seq 1200); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
                cat /tmp/odp.log
                grep -q DONE /tmp/odp.log && echo "ODPRC 0" || echo "ODPRC 1"
                """;
    }
}
