package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;
import io.iovalab.mlx5.MemoryKeys.Denied;
import io.iovalab.mlx5.MemoryKeys.Mapped;
import io.iovalab.mlx5.MemoryKeys.Range;
import io.iovalab.mlx5.MemoryKeys.Translation;

import java.util.ArrayList;
import java.util.List;

import static io.iovalab.mlx5.Cqe.*;
import static io.iovalab.mlx5.SendWqe.*;
import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The reliable-connected transport between QPs of this device: the one port's LID is the only
 * destination there is, so a requester's packet goes straight to the responder QP its context
 * names (remote_qpn), and both halves of the exchange run here, in one step, on the worker. Every
 * check a responder makes happens before any byte moves, so a refused operation changes nothing
 * in guest memory; then the data is copied guest-to-guest through the IOMMU model (read through
 * one key's IOVAs, written through the other's).
 *
 * <p>Errors follow the IB spec's classes: a local problem (bad lkey, length) fails the requester
 * alone; a remote access violation (bad rkey, out of the key's range, access not granted) fails
 * the requester with a remote access error and moves the responder QP to error as well; a
 * receive too small for the message fails both, the responder with a local length error. Each
 * failed QP flushes its outstanding work ({@link SendQueues}); other QPs are not touched. A
 * message for a QP that has no receive posted waits (RNR, retried for ever as with rnr_retry 7).
 * An ODP page that is not present (on either side) stops the operation before anything moves,
 * for the driver to fault it in ({@link PageFault}).
 * No requester-side retry timer exists: a destination that is not there fails at once with
 * "transport retry counter exceeded".
 */
final class Loopback {
    /** Bytes copied per DMA read/write pair. */
    static final int CHUNK = 64 << 10;

    sealed interface Outcome permits Done, Failed, NotReady, PageFault {
    }

    /**
     * An ODP page the operation needs is not present: the driver is to fault in {@code length}
     * bytes at {@code va} of {@code key} and resume the QP; nothing has moved.
     *
     * @param remote   the page is the responder's (an rkey), else the requester's
     * @param write    the device would write it
     * @param syndrome the requester's error if the fault cannot be resolved
     */
    record PageFault(int key, long va, long length, boolean remote, boolean write, int syndrome) implements Outcome {
    }

    /** Executed; {@code byteCount} for the requester's CQE. */
    record Done(long byteCount) implements Outcome {
    }

    /** Not executed: the requester's error syndrome and why. */
    record Failed(int syndrome, String why) implements Outcome {
    }

    /** The responder has no receive WQE for it yet: the WQE stays at the head of the SQ. */
    record NotReady(int responderQpn) implements Outcome {
    }

    /** A piece of a message: guest memory, or bytes from the WQE itself. */
    private sealed interface Piece permits Mem, Bytes {
    }

    private record Mem(long iova, long length) implements Piece {
    }

    private record Bytes(byte[] data) implements Piece {
    }

    private final Resources resources;
    private final Port port;
    private final CompletionQueues cqs;
    private final byte[] buffer = new byte[CHUNK];
    long sends;
    long writes;
    long reads;
    long bytes;
    long rnrWaits;
    long responderErrors;
    String lastResponderError = "";

    Loopback(Resources resources, Port port, CompletionQueues cqs) {
        this.resources = resources;
        this.port = port;
        this.cqs = cqs;
    }

    /** Executes data WQE {@code w} posted on {@code qp} (in RTS). */
    Outcome execute(DmaCommand dma, Resources.Qp qp, SendWqe w, long maxMessage) throws DmaFault {
        if (datagram(qp.st)) {
            // UD and the special QPs (mlx5_ib's GSI QP sends MADs): there is no other node and no
            // SM, so a datagram completes as sent and goes nowhere
            return new Done(0);
        }
        if (qp.st != MLX5_QPC_ST_RC && qp.st != MLX5_QPC_ST_UC) {
            return new Failed(MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "QP type 0x" + Integer.toHexString(qp.st) + " has no data path here");
        }
        if (w.opcode() == MLX5_OPCODE_NOP) {
            return new Done(0);
        }
        boolean send = w.opcode() == MLX5_OPCODE_SEND || w.opcode() == MLX5_OPCODE_SEND_IMM;
        boolean write = w.opcode() == MLX5_OPCODE_RDMA_WRITE || w.opcode() == MLX5_OPCODE_RDMA_WRITE_IMM;
        boolean read = w.opcode() == MLX5_OPCODE_RDMA_READ;
        if (!send && !write && !read) {
            return new Failed(MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "opcode 0x" + Integer.toHexString(w.opcode()) + " not supported");
        }
        long length = w.length();
        if (Long.compareUnsigned(length, maxMessage) > 0) {
            return new Failed(MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR, "message of " + length + " bytes");
        }
        // the local side: what the requester gathers from (send, write) or scatters to (read)
        List<Piece> local = new ArrayList<>();
        for (Gather g : w.gather()) {
            switch (g) {
                case Inline in -> {
                    if (read) {
                        return new Failed(MLX5_CQE_SYNDROME_LOCAL_QP_OP_ERR, "inline data in an RDMA read");
                    }
                    local.add(new Bytes(in.data()));
                }
                case Sge s -> {
                    Translation t = MemoryKeys.translate(resources, qp.pd, s.lkey(), s.addr(), s.length(),
                            read ? MemoryKeys.LOCAL_WRITE : 0);
                    if (t instanceof Denied d) {
                        if (d.reason() == MemoryKeys.Reason.NOT_PRESENT) {
                            return new PageFault(s.lkey(), s.addr(), s.length(), false, read, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR);
                        }
                        return localDenied(d);
                    }
                    addMem(local, ((Mapped) t).ranges());
                }
            }
        }
        Resources.Qp dst = resources.qps.get(qp.remoteQpn);
        if (qp.rlid != port.lid || port.lid == 0 || dst == null || (dst.st != MLX5_QPC_ST_RC && dst.st != MLX5_QPC_ST_UC)
                || (dst.state != MLX5_QPC_STATE_RTR && dst.state != MLX5_QPC_STATE_RTS)) {
            return new Failed(MLX5_CQE_SYNDROME_TRANSPORT_RETRY_EXC_ERR, "no responder: LID " + qp.rlid + " QP 0x"
                    + Integer.toHexString(qp.remoteQpn) + (dst == null ? " does not exist" : " in state " + dst.state));
        }
        ReceiveQueue.RecvWqe recv = null;
        if (send || w.opcode() == MLX5_OPCODE_RDMA_WRITE_IMM) {
            if (!dst.hasRq()) {
                return responderFails(dma, dst, null, MLX5_CQE_SYNDROME_REMOTE_OP_ERR, 0, "QP 0x"
                        + Integer.toHexString(dst.qpn) + " has no receive queue of its own (SRQ receives are not implemented)");
            }
            recv = ReceiveQueue.peek(dma, dst);
            if (recv == null) {
                rnrWaits++;
                return new NotReady(dst.qpn);
            }
        }
        List<Piece> remote = new ArrayList<>();
        if (send) {
            if (recv.capacity() < length) {
                return responderFails(dma, dst, recv, MLX5_CQE_SYNDROME_REMOTE_INVAL_REQ_ERR, MLX5_CQE_SYNDROME_LOCAL_LENGTH_ERR,
                        "message of " + length + " bytes for a receive of " + recv.capacity());
            }
            long left = length;
            for (Sge s : recv.scatter()) {
                if (left == 0) {
                    break;
                }
                long n = Math.min(left, s.length());
                Translation t = MemoryKeys.translate(resources, dst.pd, s.lkey(), s.addr(), n, MemoryKeys.LOCAL_WRITE);
                if (t instanceof Denied d && d.reason() == MemoryKeys.Reason.NOT_PRESENT) {
                    return new PageFault(s.lkey(), s.addr(), n, true, true, MLX5_CQE_SYNDROME_REMOTE_OP_ERR);
                }
                if (t instanceof Denied d) {
                    // the responder's own receive is bad: its local protection error, the requester's remote operational error
                    return responderFails(dma, dst, recv, MLX5_CQE_SYNDROME_REMOTE_OP_ERR, MLX5_CQE_SYNDROME_LOCAL_PROT_ERR,
                            "receive: " + d.detail());
                }
                addMem(remote, ((Mapped) t).ranges());
                left -= n;
            }
        } else {
            boolean allowed = read ? dst.rre : dst.rwe;
            Translation t = allowed
                    ? MemoryKeys.translate(resources, dst.pd, w.rkey(), w.raddr(), length, read ? MemoryKeys.REMOTE_READ : MemoryKeys.REMOTE_WRITE)
                    : new Denied(MemoryKeys.Reason.ACCESS, "QP 0x" + Integer.toHexString(dst.qpn) + " does not allow remote "
                            + (read ? "read" : "write"));
            if (t instanceof Denied d && d.reason() == MemoryKeys.Reason.NOT_PRESENT) {
                return new PageFault(w.rkey(), w.raddr(), length, true, !read, MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR);
            }
            if (t instanceof Denied d) {
                return responderFails(dma, dst, null, MLX5_CQE_SYNDROME_REMOTE_ACCESS_ERR, 0, "rkey: " + d.detail());
            }
            addMem(remote, ((Mapped) t).ranges());
        }
        String fault = read ? copy(dma, remote, local) : copy(dma, local, remote);
        if (fault != null) {
            return new Failed(MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, fault);
        }
        bytes += length;
        if (recv != null) {
            ReceiveQueue.take(dst);
            int op = w.opcode() == MLX5_OPCODE_RDMA_WRITE_IMM ? MLX5_CQE_RESP_WR_IMM
                    : w.opcode() == MLX5_OPCODE_SEND_IMM ? MLX5_CQE_RESP_SEND_IMM : MLX5_CQE_RESP_SEND;
            cqs.post(dma, dst.cqnRcv, Cqe.responder(dst, op, recv.index(), length, w.hasImm() ? w.imm() : 0, qp.qpn, port.lid));
        }
        if (send) {
            sends++;
        } else if (write) {
            writes++;
        } else {
            reads++;
        }
        return new Done(length);
    }

    /** QP types whose send WQEs carry a datagram segment (mlx5_wqe_datagram_seg). */
    static boolean datagram(int st) {
        return st == MLX5_QPC_ST_UD || st == MLX5_QPC_ST_QP0 || st == MLX5_QPC_ST_QP1;
    }

    private Failed localDenied(Denied d) {
        return new Failed(MLX5_CQE_SYNDROME_LOCAL_PROT_ERR, "lkey: " + d.detail());
    }

    /**
     * The responder refuses: it moves to ERR (its outstanding receives are then flushed), the
     * receive WQE the message consumed, if any, completes with {@code responderSyndrome}, and
     * the requester fails with {@code requesterSyndrome}.
     */
    private Failed responderFails(DmaCommand dma, Resources.Qp dst, ReceiveQueue.RecvWqe recv, int requesterSyndrome,
                                  int responderSyndrome, String why) throws DmaFault {
        responderErrors++;
        lastResponderError = "QP 0x" + Integer.toHexString(dst.qpn) + ": " + why;
        dst.state = MLX5_QPC_STATE_ERR;
        if (recv != null) {
            ReceiveQueue.take(dst);
            cqs.post(dma, dst.cqnRcv, Cqe.responderError(dst, recv.index(), responderSyndrome));
        }
        return new Failed(requesterSyndrome, "responder " + lastResponderError);
    }

    private static void addMem(List<Piece> pieces, List<Range> ranges) {
        for (Range r : ranges) {
            pieces.add(new Mem(r.iova(), r.length()));
        }
    }

    /** Copies the bytes of {@code from} into {@code to} (as long as both last); null, or what faulted. */
    private String copy(DmaCommand dma, List<Piece> from, List<Piece> to) {
        int di = 0;
        long dOff = 0;
        for (Piece p : from) {
            long pLen = p instanceof Mem m ? m.length() : ((Bytes) p).data().length;
            long pOff = 0;
            while (pOff < pLen && di < to.size()) {
                Mem d = (Mem) to.get(di);
                int n = (int) Math.min(Math.min(pLen - pOff, d.length() - dOff), CHUNK);
                try {
                    switch (p) {
                        case Mem m -> dma.read(m.iova() + pOff, buffer, 0, n);
                        case Bytes b -> System.arraycopy(b.data(), (int) pOff, buffer, 0, n);
                    }
                } catch (DmaFault f) {
                    return "reading: " + f.getMessage();
                }
                try {
                    dma.write(d.iova() + dOff, buffer, 0, n);
                } catch (DmaFault f) {
                    return "writing: " + f.getMessage();
                }
                pOff += n;
                dOff += n;
                if (dOff == d.length()) {
                    di++;
                    dOff = 0;
                }
            }
        }
        return null;
    }
}
