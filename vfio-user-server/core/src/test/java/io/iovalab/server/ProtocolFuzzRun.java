package io.iovalab.server;

import io.iovalab.os.Fd;
import io.iovalab.os.Process;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.nio.file.Files;
import java.util.Random;

/**
 * Drives a live server with {@link MessageFuzzer} cases over real sockets and checks the
 * protocol's promises: every message that asks for an answer gets one within the deadline, the
 * connection is closed exactly when the spec says so (and the fuzzer reconnects), no request
 * makes the server or a device thread throw, and once every session has ended the process holds
 * as many descriptors as before and its heap after GC has not grown beyond {@code heapSlackBytes}.
 * A failure names the seed, the message's index and its bytes, so the run can be repeated.
 */
final class ProtocolFuzzRun {
    /** What a run did. */
    record Result(long seed, long messages, long replies, long errorReplies, long unanswered, long closes, long reconnects,
                  long hangUps, int fdsBefore, int fdsAfter, long heapBefore, long heapAfter, double seconds, String fdChange) {
        double rate() {
            return messages / seconds;
        }

        @Override
        public String toString() {
            return String.format("seed %d: %d messages in %.1f s (%.0f/s): %d replies (%d errors), %d without reply by spec, "
                            + "%d closes by the server, %d reconnects, %d hang-ups; fds %d -> %d (%+d); heap after GC %d -> %d KiB (%+d KiB)",
                    seed, messages, seconds, rate(), replies, errorReplies, unanswered, closes, reconnects, hangUps, fdsBefore,
                    fdsAfter, fdsAfter - fdsBefore, heapBefore >> 10, heapAfter >> 10, (heapAfter - heapBefore) >> 10)
                    + (fdChange.isEmpty() ? "" : "; descriptors " + fdChange);
        }
    }

    private static final int WINDOW = 32;

    private final VfioUserServer server;
    private final Path socket;
    private final long seed;
    private final long deadlineMillis;
    private final ArrayDeque<InFlight> recent = new ArrayDeque<>();
    private long messages;
    private long replies;
    private long errorReplies;
    private long unanswered;
    private long closes;
    private long reconnects;
    private long hangUps;

    ProtocolFuzzRun(VfioUserServer server, Path socket, long seed, long deadlineMillis) {
        this.server = server;
        this.socket = socket;
        this.seed = seed;
        this.deadlineMillis = deadlineMillis;
    }

    /** Sends {@code count} messages (after a warm-up that is not counted in the fd and heap baseline). */
    Result run(long count, long progressEvery) throws Exception {
        Random rnd = new Random(seed);
        int maxMessage = server.options().maxDataXferSize() + 64;
        try (MessageFuzzer fuzz = new MessageFuzzer(rnd, maxMessage)) {
            long warmUp = Math.min(2000, count / 10);
            drive(fuzz, rnd, warmUp, 0);
            awaitIdle();
            int fdsBefore = Process.openFdCount();
            Map<String, String> fdTargetsBefore = fdTargets();
            long heapBefore = heapAfterGc();
            long t0 = System.nanoTime();
            drive(fuzz, rnd, count, progressEvery);
            double seconds = (System.nanoTime() - t0) / 1e9;
            awaitIdle();
            int fdsAfter = Process.openFdCount();
            Map<String, String> fdTargetsAfter = fdTargets();
            long heapAfter = heapAfterGc();
            return new Result(seed, messages, replies, errorReplies, unanswered, closes, reconnects, hangUps, fdsBefore, fdsAfter,
                    heapBefore, heapAfter, seconds, difference(fdTargetsBefore, fdTargetsAfter));
        }
    }

    /** A request sent and not yet answered. */
    private record InFlight(long index, MessageFuzzer.Case message, VfioUserClient.Pending pending) {
    }

    private void drive(MessageFuzzer fuzz, Random rnd, long count, long progressEvery) throws Exception {
        messages = replies = errorReplies = unanswered = closes = reconnects = hangUps = 0;
        long t0 = System.nanoTime();
        List<InFlight> window = new ArrayList<>();
        VfioUserClient c = null;
        try {
            for (long i = 0; i < count; i++) {
                if (c == null) {
                    c = connect();
                    if (rnd.nextInt(10) != 0) {
                        MessageFuzzer.Case v = fuzz.version(id(i) ^ 0x8000);
                        remember(i, v);
                        window.add(new InFlight(i, v, send(c, v, i)));
                        settle(c, window);
                    }
                }
                MessageFuzzer.Case m = fuzz.next(id(i));
                remember(i, m);
                messages++;
                if (m.hangUp()) {
                    settle(c, window);
                    ByteBuffer part = m.frame().duplicate();
                    part.limit(part.position() + Math.max(1, part.remaining() / 2));
                    c.rawNoReply(part);
                    c.close();
                    c = null;
                    hangUps++;
                    continue;
                }
                switch (m.expect()) {
                    case REPLY -> {
                        // requests are pipelined as QEMU's are; the server answers in order
                        window.add(new InFlight(i, m, send(c, m, i)));
                        if (window.size() >= WINDOW) {
                            settle(c, window);
                        }
                    }
                    case NONE -> {
                        c.rawNoReply(m.frame(), m.fds());
                        unanswered++;
                    }
                    case CLOSE -> {
                        settle(c, window);
                        c.rawNoReply(m.frame(), m.fds());
                        if (!c.closedByServer(deadlineMillis)) {
                            fail(i, "the server kept a connection whose stream it cannot frame any more");
                        }
                        closes++;
                        c.close();
                        c = null;
                    }
                }
                if (c != null && rnd.nextInt(500) == 0) {
                    settle(c, window);
                    c.close(); // a client that simply leaves, maps and interrupts and all
                    c = null;
                }
                if (server.stats().internalErrors() != 0 || server.stats().deviceThreadExceptions() != 0) {
                    fail(i, "the server threw: " + server.stats().internalErrors() + " requests failed unexpectedly, "
                            + server.stats().deviceThreadExceptions() + " exceptions on device threads (see the log)");
                }
                if (progressEvery > 0 && (i + 1) % progressEvery == 0) {
                    System.err.printf("%d messages, %.0f/s, %d closes, %d reconnects%n", i + 1,
                            (i + 1) / ((System.nanoTime() - t0) / 1e9), closes, reconnects);
                }
            }
            if (c != null) {
                settle(c, window);
            }
        } finally {
            if (c != null) {
                c.close();
            }
        }
    }

    private VfioUserClient.Pending send(VfioUserClient c, MessageFuzzer.Case m, long i) {
        try {
            return c.rawAsync(m.frame().getShort(0) & 0xffff, m.frame(), m.fds());
        } catch (IOException e) {
            fail(i, "sending failed (" + e.getMessage() + "): the server closed the connection unasked");
            return null;
        }
    }

    /** Every request in flight must be answered (a reply or an error reply) within the deadline. */
    private void settle(VfioUserClient c, List<InFlight> window) {
        for (InFlight f : window) {
            try {
                VfioUserClient.Answer a = c.await(f.pending(), deadlineMillis);
                Fd.closeAll(a.fds());
                replies++;
            } catch (VfioUserClient.ErrorReply e) {
                replies++;
                errorReplies++;
            } catch (VfioUserClient.NoReplyException e) {
                fail(f.index(), "no reply within " + deadlineMillis + " ms to " + f.message().describe());
            } catch (EOFException e) {
                fail(f.index(), "the server closed the connection instead of answering " + f.message().describe());
            } catch (IOException e) {
                fail(f.index(), "the exchange failed (" + e + ") for " + f.message().describe());
            }
        }
        window.clear();
    }

    private static int id(long i) {
        return (int) (i & 0xffff);
    }

    private VfioUserClient connect() throws Exception {
        VfioUserClient c = VfioUserClient.connect(socket);
        reconnects++;
        c.serveDma(new VfioUserClient.GuestMemory() {
            @Override
            public byte[] read(long address, int count) {
                return new byte[count]; // a remote map's memory reads as zeros
            }

            @Override
            public void write(long address, byte[] data) {
            }
        });
        return c;
    }

    private void remember(long i, MessageFuzzer.Case m) {
        if (recent.size() == 2 * WINDOW) {
            recent.removeFirst();
        }
        recent.addLast(new InFlight(i, m, null)); // described only when something fails
    }

    private void fail(long i, String what) {
        throw new AssertionError("protocol fuzzing, seed " + seed + ", message #" + i + ": " + what
                + "\nlast messages:\n  " + String.join("\n  ", recent.stream()
                .map(r -> "#" + r.index() + " " + r.message().describe()).toList()));
    }

    /** Waits until the server has cleaned up after the last client (session ended, no maps). */
    private void awaitIdle() throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        SessionStats st = server.stats();
        while (System.nanoTime() < deadline && (st.sessionsEnded() < st.sessions() || server.iovaSpace().liveMappings() > 0)) {
            Thread.sleep(10);
        }
        Thread.sleep(100); // a client connecting right now would be counted; none does, but be generous
    }

    /** fd number → what it is (readlink of /proc/self/fd/N), to name a leak rather than count it. */
    private static Map<String, String> fdTargets() {
        Map<String, String> out = new TreeMap<>();
        try (var dir = Files.list(Path.of("/proc/self/fd"))) {
            for (Path p : dir.toList()) {
                try {
                    out.put(p.getFileName().toString(), Files.readSymbolicLink(p).toString());
                } catch (IOException gone) {
                    // the listing's own descriptor, closed by now
                }
            }
        } catch (IOException e) {
            out.put("?", e.toString());
        }
        return out;
    }

    private static String difference(Map<String, String> before, Map<String, String> after) {
        List<String> d = new ArrayList<>();
        after.forEach((fd, what) -> {
            if (!what.equals(before.get(fd))) {
                d.add("+" + fd + "=" + what);
            }
        });
        before.forEach((fd, what) -> {
            if (!what.equals(after.get(fd))) {
                d.add("-" + fd + "=" + what);
            }
        });
        return String.join(" ", d);
    }

    private static long heapAfterGc() throws InterruptedException {
        Runtime rt = Runtime.getRuntime();
        long used = Long.MAX_VALUE;
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
            used = Math.min(used, rt.totalMemory() - rt.freeMemory());
        }
        return used;
    }
}
