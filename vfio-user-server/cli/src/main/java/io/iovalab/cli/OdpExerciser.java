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
     * Shell that runs the program at {@code /host/odp.py} to the end: the go files exist before
     * it starts, so its handshake steps pass straight through. Prints its log and "ODPRC n".
     */
    static String runToEnd(int pages) {
        return """
                rm -f /tmp/odp.*
                touch /tmp/odp.go.prefetched /tmp/odp.go.dropped
                timeout 120 python3 /host/odp.py %d > /tmp/odp.log 2>&1 < /dev/null
                rc=$?
                cat /tmp/odp.log
                echo "ODPRC $rc"
                """.formatted(pages);
    }
}
