package io.iovalab.mlx5;

import java.util.Map;
import java.util.TreeMap;

/**
 * The firmware objects mlx5_ib creates: protection domains, XRC domains, transport domains,
 * completion queues and queue pairs. Stage (b) keeps them as bookkeeping — numbers, the links
 * between them (a QP's PD and CQs, a CQ's EQ) and the QP state machine; no data moves yet.
 */
final class Resources {

    /** A number space: handles from {@code first} up, freed numbers reused lowest first. */
    static final class Handles<T> {
        private final int first;
        private final int limit;
        private final TreeMap<Integer, T> live = new TreeMap<>();

        Handles(int first, int limit) {
            this.first = first;
            this.limit = limit;
        }

        /** Makes the object for the lowest free number; -1 (nothing made) when the space is full. */
        int add(java.util.function.IntFunction<T> make) {
            int n = first;
            for (int used : live.keySet()) {
                if (used != n) {
                    break;
                }
                n++;
            }
            if (n >= limit) {
                return -1;
            }
            live.put(n, make.apply(n));
            return n;
        }

        T get(int n) {
            return live.get(n);
        }

        T remove(int n) {
            return live.remove(n);
        }

        int size() {
            return live.size();
        }

        Map<Integer, T> all() {
            return live;
        }

        void clear() {
            live.clear();
        }
    }

    /**
     * A completion queue: its ring (64-byte CQEs, or 128-byte ones whose 64-byte CQE sits in the
     * second half) and, once something completes on it, the producer count and the arm state.
     */
    static final class Cq {
        final int cqn;
        final int logSize;
        final int eqn;
        final int uar;
        final long[] pas;
        final long pageSize;
        final int cqeSize;
        final long dbrAddr;
        /** CQEs written (worker only). */
        long producer;
        /** Set by an arm doorbell (UAR +0x20, message thread); one completion event per arm. */
        volatile boolean armed;
        long overruns;

        Cq(int cqn, int logSize, int eqn, int uar, long[] pas, long pageSize, int cqeSize, long dbrAddr) {
            this.cqn = cqn;
            this.logSize = logSize;
            this.eqn = eqn;
            this.uar = uar;
            this.pas = pas;
            this.pageSize = pageSize;
            this.cqeSize = cqeSize;
            this.dbrAddr = dbrAddr;
        }

        int cqn() {
            return cqn;
        }

        int eqn() {
            return eqn;
        }
    }

    static final class Qp {
        final int qpn;
        final int st;
        final int pd;
        final int cqnSnd;
        final int cqnRcv;
        int state;
        /** Send queue geometry, from the QP context: the SQ follows the RQ in the buffer the page list describes. */
        long[] pas = new long[0];
        long pageSize = 4096;
        long sqOffset;
        int logSqSize = -1;
        long dbrAddr;
        /** WQE basic blocks the device has taken from the SQ (16-bit, as the doorbell record's send counter). */
        int sqConsumed;

        Qp(int qpn, int st, int pd, int cqnSnd, int cqnRcv, int state) {
            this.qpn = qpn;
            this.st = st;
            this.pd = pd;
            this.cqnSnd = cqnSnd;
            this.cqnRcv = cqnRcv;
            this.state = state;
        }

        boolean hasSq() {
            return logSqSize >= 0 && pas.length > 0;
        }
    }

    /**
     * A memory key: its PD, access mode and the range it covers (free = not usable: created empty
     * for UMR to fill later, or revoked). UMR changes every field; the translation entries (MTT:
     * an IOVA | read/write flags per page, 0 = not present) are kept sparse by entry index,
     * because an ODP key is as large as the MR but only the touched pages are ever filled in.
     */
    static final class Mkey {
        final int index;
        int pd;
        int accessMode;
        boolean free;
        long start;
        long length;
        boolean length64;
        int logPageSize = 12;
        int variant;
        final TreeMap<Long, Long> mtt = new TreeMap<>();

        Mkey(int index, int pd, int accessMode, boolean free, long start, long length, boolean length64) {
            this.index = index;
            this.pd = pd;
            this.accessMode = accessMode;
            this.free = free;
            this.start = start;
            this.length = length;
            this.length64 = length64;
        }
    }

    /** A shared receive queue: an XRC SRQ or a plain one (an RMP with ISSI 1); they share the driver's SRQ numbering. */
    record Srq(int srqn, boolean xrc, int pd, int xrcd, int cqn) {
    }

    // 24-bit object numbers; 0 is left unused so a zeroed field never names a live object
    final Handles<Integer> pds = new Handles<>(1, 1 << 24);
    final Handles<Integer> xrcds = new Handles<>(1, 1 << 24);
    final Handles<Integer> transportDomains = new Handles<>(1, 1 << 24);
    final Handles<Cq> cqs = new Handles<>(1, 1 << 24);
    /** QP numbers start above the special QPs' range, as on hardware. */
    final Handles<Qp> qps = new Handles<>(0x100, 1 << 24);
    final Handles<Mkey> mkeys = new Handles<>(1, 1 << 24);
    final Handles<Srq> srqs = new Handles<>(1, 1 << 24);

    void reset() {
        pds.clear();
        xrcds.clear();
        transportDomains.clear();
        cqs.clear();
        qps.clear();
        mkeys.clear();
        srqs.clear();
    }
}
