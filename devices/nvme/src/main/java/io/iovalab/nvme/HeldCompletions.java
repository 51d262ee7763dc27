package io.iovalab.nvme;

import java.util.ArrayList;
import java.util.List;

/**
 * Commands the controller has executed but whose completion an injected fault holds back: from
 * the host's side they are outstanding. Abort finds them here, a delayed one is posted when due,
 * a controller reset forgets them. The worker owns them; inspection takes snapshots from the
 * control thread, hence the lock.
 */
final class HeldCompletions {
    /** @param dueNanos when to post it ({@link System#nanoTime()}), or {@link Long#MAX_VALUE}: never by itself */
    record Held(SubmissionQueue sq, int cid, int opcode, int status, int dw0, long heldAtNanos, long dueNanos, String fault) {
    }

    private final List<Held> held = new ArrayList<>();

    synchronized void add(Held h) {
        held.add(h);
    }

    /** Removes and returns the held command {@code cid} of SQ {@code sqid}, or null. */
    synchronized Held take(int sqid, int cid) {
        for (int i = 0; i < held.size(); i++) {
            Held h = held.get(i);
            if (h.sq().qid == sqid && h.cid() == cid) {
                return held.remove(i);
            }
        }
        return null;
    }

    /** Whether anything is held: the worker asks before {@link #takeDue}, which allocates. */
    synchronized boolean isEmpty() {
        return held.isEmpty();
    }

    /** Removes and returns those due at {@code now}, earliest first. */
    synchronized List<Held> takeDue(long now) {
        List<Held> due = new ArrayList<>();
        for (int i = 0; i < held.size(); i++) {
            if (held.get(i).dueNanos() != Long.MAX_VALUE && held.get(i).dueNanos() - now <= 0) {
                due.add(held.remove(i--));
            }
        }
        due.sort((a, b) -> Long.compare(a.dueNanos() - now, b.dueNanos() - now));
        return due;
    }

    /** The earliest due time, or {@link Long#MAX_VALUE} if nothing will post by itself. */
    synchronized long nextDue() {
        long next = Long.MAX_VALUE;
        for (int i = 0; i < held.size(); i++) { // indexed: called by every idle pass of the worker
            Held h = held.get(i);
            if (h.dueNanos() != Long.MAX_VALUE && (next == Long.MAX_VALUE || h.dueNanos() - next < 0)) {
                next = h.dueNanos();
            }
        }
        return next;
    }

    synchronized List<Held> snapshot() {
        return List.copyOf(held);
    }

    synchronized void clear() {
        held.clear();
    }
}
