package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;
import io.iovalab.iommu.DmaFault;

import java.util.ArrayList;
import java.util.List;

/**
 * A QP's receive queue: WQEs of (16 << log_rq_stride) bytes at the start of the QP buffer, each
 * a scatter list of mlx5_wqe_data_seg ended early by an entry with MLX5_INVALID_LKEY. Posting a
 * receive rings no doorbell: the driver only advances the receive counter in dword 0 of the
 * doorbell record, so the device reads it when a message arrives.
 */
final class ReceiveQueue {
    private ReceiveQueue() {
    }

    /** include/linux/mlx5/qp.h: ends a receive WQE's scatter list. */
    static final int MLX5_INVALID_LKEY = 0x100;

    /** A posted receive: its RQ index (the responder CQE's wqe_counter) and where the message goes. */
    record RecvWqe(int index, List<SendWqe.Sge> scatter) {
        long capacity() {
            long n = 0;
            for (SendWqe.Sge s : scatter) {
                n += s.length();
            }
            return n;
        }
    }

    /** Receive WQEs the driver has posted that the device has not taken. */
    static int outstanding(DmaCommand dma, Resources.Qp qp) throws DmaFault {
        int posted = SendQueues.be32(dma, qp.dbrAddr) & 0xffff;
        return (posted - qp.rqConsumed) & 0xffff;
    }

    /** The next posted receive WQE, not yet taken ({@link #take}); null when the driver has posted none. */
    static RecvWqe peek(DmaCommand dma, Resources.Qp qp) throws DmaFault {
        if (!qp.hasRq() || outstanding(dma, qp) == 0) {
            return null;
        }
        int stride = 1 << qp.logRqStride;
        int index = qp.rqConsumed;
        long off = qp.rqOffset + (long) (index & ((1 << qp.logRqSize) - 1)) * stride;
        byte[] w = new byte[stride];
        for (int done = 0; done < stride; ) { // the buffer's pages need not be contiguous in bus addresses
            long at = off + done;
            int n = (int) Math.min(stride - done, qp.pageSize - at % qp.pageSize);
            dma.read(qp.addressOf(at), w, done, n);
            done += n;
        }
        List<SendWqe.Sge> scatter = new ArrayList<>();
        for (int at = 0; at + SendWqe.DATA_SEG_SIZE <= stride; at += SendWqe.DATA_SEG_SIZE) {
            int lkey = SendWqe.be32(w, at + 4);
            if (lkey == MLX5_INVALID_LKEY) {
                break;
            }
            long length = Integer.toUnsignedLong(SendWqe.be32(w, at));
            if (length != 0) {
                scatter.add(new SendWqe.Sge(lkey, SendWqe.be64(w, at + 8), length));
            }
        }
        return new RecvWqe(index, List.copyOf(scatter));
    }

    static void take(Resources.Qp qp) {
        qp.rqConsumed = (qp.rqConsumed + 1) & 0xffff;
    }
}
