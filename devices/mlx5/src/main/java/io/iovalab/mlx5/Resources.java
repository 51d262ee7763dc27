package io.iovalab.mlx5;

import java.util.Map;
import java.util.TreeMap;

/**
 * The firmware objects mlx5_ib creates: protection domains, XRC domains, transport domains,
 * completion queues, queue pairs and memory keys: numbers, the links between them (a QP's PD
 * and CQs, a CQ's EQ), where their rings are in guest memory and the QP state machine. The
 * send-queue engine ({@link SendQueues}) moves data through them.
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
        /** Receive queue geometry: the RQ starts the buffer (at the context's page offset); -1 = none (zero-length RQ or SRQ). */
        long rqOffset;
        int logRqSize = -1;
        int logRqStride;
        /** Receive WQEs the device has taken (16-bit, as the doorbell record's receive counter in dword 0). */
        int rqConsumed;
        /** CQE version 1 names the QP by this (qpc.user_index), not by its number: rdma-core finds its QP by it. */
        int userIndex;
        /** The connection, from INIT2RTR / RTR2RTS: where an RC requester's packets go, and the PSNs (reported, not checked). */
        int remoteQpn;
        int rlid;
        int nextRcvPsn;
        int nextSendPsn;
        int mtu;
        /** Remote access enables (qpc rre/rwe/rae): what a responder lets its peer do through an rkey. */
        boolean rre;
        boolean rwe;
        boolean rae;
        /** The first SQ WQE waits for a receive WQE at the destination (RNR: retried, rnr_retry 7 is "forever"). */
        boolean rnrWaiting;
        /** The first SQ WQE touched a non-present ODP page: it waits for the driver's PAGE_FAULT_RESUME. */
        boolean pageFaultPending;
        /** The driver resumed with its error bit set: the WQE fails instead of faulting again. */
        boolean pageFaultError;
        /** Page faults raised for the WQE at the head: bounded, so a driver that resumes without mapping cannot loop us. */
        int pageFaults;


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

        boolean hasRq() {
            return logRqSize >= 0 && pas.length > 0;
        }

        /** Guest address of byte {@code off} of the QP buffer (the page list says where each page is). */
        long addressOf(long off) {
            return pas[(int) (off / pageSize)] + off % pageSize;
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
        /** Access rights (mkc lr/lw/rr/rw/a) as {@link MemoryKeys} bits; local read is always allowed. */
        int access;
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
