package io.iovalab.nvme;

import io.iovalab.spi.FaultInjector;
import io.iovalab.spi.FaultSpec;
import io.iovalab.spi.FaultSpecException;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The NVMe controller's armed faults. The control thread arms and clears them; the worker asks,
 * at each point where a fault can fire, whether one matches, and a match uses up one firing.
 * A rule without {@code queue=} matches I/O queues only, so Abort and the admin commands the
 * driver needs to recover are never hit by accident; {@code queue=0} targets the admin queue.
 */
final class NvmeFaults implements FaultInjector {
    static final String DROP_COMPLETION = "drop-completion";
    static final String DELAY_COMPLETION = "delay-completion";
    static final String FAIL_COMMAND = "fail-command";
    static final String DROP_INTERRUPT = "drop-interrupt";
    static final String DELAY_INTERRUPT = "delay-interrupt";
    static final String MEDIA_ERROR = "media-error";
    static final String CONTROLLER_FATAL = "controller-fatal";

    private static final List<FaultKind> KINDS = List.of(
            new FaultKind(DROP_COMPLETION, List.of("queue", "opcode", "count"),
                    "execute the command but post no completion; it stays outstanding until Abort or a reset"),
            new FaultKind(DELAY_COMPLETION, List.of("queue", "opcode", "count", "ms"),
                    "execute the command, post its completion ms later (Abort still finds it meanwhile)"),
            new FaultKind(FAIL_COMMAND, List.of("queue", "opcode", "count", "status", "dnr"),
                    "do not execute the command; complete it with status (spec name or 0xSCT_SC), DNR if dnr=on"),
            new FaultKind(DROP_INTERRUPT, List.of("queue", "count"),
                    "post completions on CQ queue but do not raise its interrupt"),
            new FaultKind(DELAY_INTERRUPT, List.of("queue", "count", "ms"),
                    "raise CQ queue's interrupt ms late"),
            new FaultKind(MEDIA_ERROR, List.of("nsid", "slba", "nlb", "access", "count"),
                    "reads (access=read, default), writes or both touching LBAs [slba, slba+nlb) fail with"
                            + " Unrecovered Read Error / Write Fault; armed until cleared unless count is given"),
            new FaultKind(CONTROLLER_FATAL, List.of(),
                    "set CSTS.CFS: the controller stops processing commands until the host resets it"));

    /** One armed fault; {@code remaining} and {@code fired} are guarded by the NvmeFaults lock. */
    static final class Rule {
        final long id;
        final FaultSpec spec;
        final int queue;      // -1: any I/O queue
        final int opcode;     // -1: any
        final long nanos;     // delay kinds
        final int status;     // fail-command, with DNR folded in
        final int nsid;       // media-error
        final long slba;
        final long nlb;
        final boolean reads;
        final boolean writes;
        long remaining;
        long fired;

        Rule(long id, FaultSpec spec, int queue, int opcode, long nanos, int status, int nsid, long slba, long nlb,
             boolean reads, boolean writes, long remaining) {
            this.id = id;
            this.spec = spec;
            this.queue = queue;
            this.opcode = opcode;
            this.nanos = nanos;
            this.status = status;
            this.nsid = nsid;
            this.slba = slba;
            this.nlb = nlb;
            this.reads = reads;
            this.writes = writes;
            this.remaining = remaining;
        }

        String kind() {
            return spec.kind();
        }

        boolean queueMatches(int qid) {
            return queue < 0 ? qid != 0 : queue == qid;
        }
    }

    private final int maxQueue;
    private final List<Rule> rules = new ArrayList<>();
    private long nextId = 1;
    // read by the worker on every command: with nothing armed it never takes the lock
    private volatile boolean armed;
    private volatile boolean fatalRequested;
    private volatile Rule fatalRule;

    NvmeFaults(int maxQueue) {
        this.maxQueue = maxQueue;
    }

    @Override
    public List<FaultKind> kinds() {
        return KINDS;
    }

    @Override
    public Injection inject(FaultSpec spec) throws FaultSpecException {
        FaultKind kind = KINDS.stream().filter(k -> k.name().equals(spec.kind())).findFirst()
                .orElseThrow(() -> new FaultSpecException("nvme: unknown fault kind '" + spec.kind() + "'; kinds: "
                        + String.join(", ", KINDS.stream().map(FaultKind::name).toList())));
        spec.checkKeys(Set.copyOf(kind.keys()));
        int queue = (int) spec.integer("queue", -1, 0, maxQueue);
        int opcode = -1;
        if (spec.has("opcode")) {
            opcode = Opcodes.parse(queue == 0, spec.string("opcode", ""));
            if (opcode < 0) {
                throw new FaultSpecException(spec.kind() + ": opcode=" + spec.string("opcode", "")
                        + " is not an opcode (a number, or a name such as read, write, flush" + (queue == 0 ? ", identify" : "") + ")");
            }
        }
        long nanos = 0;
        if (spec.kind().equals(DELAY_COMPLETION) || spec.kind().equals(DELAY_INTERRUPT)) {
            nanos = TimeUnit.MILLISECONDS.toNanos(spec.required("ms", 1, TimeUnit.DAYS.toMillis(1)));
        }
        int status = 0;
        if (spec.kind().equals(FAIL_COMMAND)) {
            String text = spec.string("status", null);
            if (text == null) {
                throw new FaultSpecException(FAIL_COMMAND + ": key 'status' is required (e.g. status=internal-error or 0x006)");
            }
            status = Status.parse(text);
            if (status < 0) {
                throw new FaultSpecException(FAIL_COMMAND + ": status=" + text + " is not a status; use 0xNNN (SCT << 8 | SC) or one of: "
                        + Status.names());
            }
            if (spec.bool("dnr", false)) {
                status |= Status.DNR;
            }
        }
        int nsid = 0;
        long slba = 0;
        long nlb = 0;
        boolean reads = false;
        boolean writes = false;
        long defaultCount = 1;
        if (spec.kind().equals(MEDIA_ERROR)) {
            nsid = (int) spec.integer("nsid", 1, 1, 0xfffffffeL);
            slba = spec.required("slba", 0, Long.MAX_VALUE);
            nlb = spec.integer("nlb", 1, 1, Long.MAX_VALUE - slba);
            String access = spec.string("access", "read");
            switch (access) {
                case "read" -> reads = true;
                case "write" -> writes = true;
                case "any" -> reads = writes = true;
                default -> throw new FaultSpecException(MEDIA_ERROR + ": access=" + access + " (read, write or any)");
            }
            defaultCount = FaultSpec.ALWAYS; // a bad block stays bad
        }
        long count = spec.kind().equals(CONTROLLER_FATAL) ? 1 : spec.count(defaultCount);
        synchronized (this) {
            Rule r = new Rule(nextId++, spec, queue, opcode, nanos, status, nsid, slba, nlb, reads, writes, count);
            if (spec.kind().equals(CONTROLLER_FATAL)) {
                fatalRule = r;
                fatalRequested = true;
            } else {
                rules.add(r);
                armed = true;
            }
            return snapshot(r);
        }
    }

    @Override
    public synchronized List<Injection> active() {
        List<Injection> out = new ArrayList<>();
        if (fatalRequested && fatalRule != null) {
            out.add(snapshot(fatalRule));
        }
        rules.forEach(r -> out.add(snapshot(r)));
        return out;
    }

    @Override
    public synchronized boolean clear(long id) {
        if (fatalRequested && fatalRule != null && fatalRule.id == id) {
            fatalRequested = false;
            return true;
        }
        boolean removed = rules.removeIf(r -> r.id == id);
        armed = !rules.isEmpty();
        return removed;
    }

    private static Injection snapshot(Rule r) {
        return new Injection(r.id, r.spec.toString(), r.fired, r.remaining);
    }

    // ------------------------------------------------------------------ worker side

    /** A command-scoped rule (drop/delay completion, fail command) that this command fires, or null. */
    Rule onCommand(int qid, int opcode) {
        if (!armed) {
            return null;
        }
        synchronized (this) {
            for (Rule r : rules) {
                boolean commandKind = r.kind().equals(DROP_COMPLETION) || r.kind().equals(DELAY_COMPLETION)
                        || r.kind().equals(FAIL_COMMAND);
                if (commandKind && r.queueMatches(qid) && (r.opcode < 0 || r.opcode == opcode)) {
                    return fire(r);
                }
            }
        }
        return null;
    }

    /** An interrupt rule for CQ {@code cqid} that fires now, or null. */
    Rule onInterrupt(int cqid) {
        if (!armed) {
            return null;
        }
        synchronized (this) {
            for (Rule r : rules) {
                if ((r.kind().equals(DROP_INTERRUPT) || r.kind().equals(DELAY_INTERRUPT)) && r.queueMatches(cqid)) {
                    return fire(r);
                }
            }
        }
        return null;
    }

    /** A media-error rule covering any of LBAs [slba, slba+nlb) of {@code nsid} for this access, or null. */
    Rule onMedia(int nsid, long slba, long nlb, boolean write) {
        if (!armed) {
            return null;
        }
        synchronized (this) {
            for (Rule r : rules) {
                if (r.kind().equals(MEDIA_ERROR) && r.nsid == nsid && (write ? r.writes : r.reads)
                        && slba < r.slba + r.nlb && r.slba < slba + nlb) {
                    return fire(r);
                }
            }
        }
        return null;
    }

    /** The pending controller-fatal injection, taken once by the worker; null if none. */
    Rule takeFatal() {
        if (!fatalRequested) {
            return null;
        }
        synchronized (this) {
            if (!fatalRequested) {
                return null;
            }
            fatalRequested = false;
            fatalRule.fired++;
            fatalRule.remaining = 0;
            return fatalRule;
        }
    }

    private Rule fire(Rule r) {
        r.fired++;
        if (r.remaining != FaultSpec.ALWAYS && --r.remaining == 0) {
            rules.remove(r);
            armed = !rules.isEmpty();
        }
        return r;
    }
}
