package io.iovalab.spi;

import java.util.List;

/**
 * Run-time fault injection into one device, so a guest driver's error paths (timeouts, aborts,
 * resets, error statuses) can be driven on purpose. The device owns the meaning of each kind;
 * the server and the CLI only carry {@link FaultSpec}s to it. Called from the control thread
 * while the device runs: implementations must be thread-safe and must not block on the device.
 */
public interface FaultInjector {

    /** A device without fault injection. */
    FaultInjector NONE = new FaultInjector() {
        @Override
        public List<FaultKind> kinds() {
            return List.of();
        }

        @Override
        public Injection inject(FaultSpec spec) throws FaultSpecException {
            throw new FaultSpecException("this device has no fault injection");
        }

        @Override
        public List<Injection> active() {
            return List.of();
        }

        @Override
        public boolean clear(long id) {
            return false;
        }
    };

    /** The kinds this device understands, for help texts and error messages. */
    List<FaultKind> kinds();

    /** Arms a fault; it fires on the device's own threads when its conditions match. */
    Injection inject(FaultSpec spec) throws FaultSpecException;

    /** Faults armed and not yet used up or cleared. */
    List<Injection> active();

    /** Disarms one fault; false if no such fault is armed. */
    boolean clear(long id);

    /** Disarms every fault; returns how many were armed. */
    default int clearAll() {
        int n = 0;
        for (Injection i : active()) {
            if (clear(i.id())) {
                n++;
            }
        }
        return n;
    }

    /** One kind: its name, the keys it takes, one line of help. */
    record FaultKind(String name, List<String> keys, String help) {
    }

    /**
     * A snapshot of one armed fault.
     *
     * @param id        handle for {@link #clear}
     * @param spec      the spec as armed
     * @param fired     how often it has fired
     * @param remaining firings left, or {@link FaultSpec#ALWAYS}
     */
    record Injection(long id, String spec, long fired, long remaining) {
    }
}
