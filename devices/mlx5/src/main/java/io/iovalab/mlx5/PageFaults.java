package io.iovalab.mlx5;

import io.iovalab.iommu.DmaCommand;

import static io.iovalab.mlx5.ifc.Mlx5Const.MLX5_EVENT_TYPE_PAGE_FAULT;

/**
 * ODP page faults, the transport scheme (odp_cap.mem_page_fault = 0): when an operation needs a
 * page of an on-demand key that is not in its MTT, the QP stops at that WQE and the device posts
 * a PAGE_FAULT EQE to the EQ mlx5_ib created for them. We always use the RDMA subtype — key,
 * virtual address, length — for the requester's and the responder's pages alike: mlx5_ib's
 * handler for it (mlx5_ib_mr_rdma_pfault_handler) faults in exactly that range of whichever ODP
 * key it names, loads the MTT by UMR, and answers PAGE_FAULT_RESUME with the QP number as the
 * token; the QP then tries the WQE again. A fault the driver cannot resolve (resume with the
 * error bit), a driver that resumes without mapping, and a device without a page-fault EQ all
 * end the WQE with the operation's error, so a QP never waits for ever.
 */
final class PageFaults {
    // include/linux/mlx5/device.h, driver.h
    static final int MLX5_PFAULT_SUBTYPE_RDMA = 1;
    static final int MLX5_PFAULT_REQUESTOR = 1 << 0;
    static final int MLX5_PFAULT_WRITE = 1 << 1;
    static final int MLX5_PFAULT_RDMA = 1 << 2;
    /** Faults for one WQE before it fails: a page can be invalidated again between resume and retry, but not for ever. */
    static final int MAX_PER_WQE = 16;

    private final EqTable eqs;
    long raised;
    long resumed;
    long failed;

    PageFaults(EqTable eqs) {
        this.eqs = eqs;
    }

    /** Posts the fault for {@code qp}'s head WQE and parks the QP; null, or why the WQE fails instead. */
    String raise(DmaCommand dma, Resources.Qp qp, Loopback.PageFault pf) {
        String what = "key 0x" + Integer.toHexString(pf.key()) + " va 0x" + Long.toHexString(pf.va()) + " +" + pf.length();
        if (qp.pageFaultError) {
            failed++;
            return "page fault not resolved by the driver: " + what;
        }
        if (qp.pageFaults >= MAX_PER_WQE) {
            failed++;
            return MAX_PER_WQE + " page faults for one WQE, still not present: " + what;
        }
        EventQueue eq = null;
        for (EventQueue e : eqs.all()) {
            if (e.wants(MLX5_EVENT_TYPE_PAGE_FAULT)) {
                eq = e;
                break;
            }
        }
        if (eq == null) {
            failed++;
            return "no page-fault EQ for " + what;
        }
        int type = (pf.remote() ? MLX5_PFAULT_RDMA : MLX5_PFAULT_REQUESTOR) | (pf.write() ? MLX5_PFAULT_WRITE : 0);
        byte[] data = new byte[EventQueue.EQE_DATA_SIZE];
        // mlx5_eqe_page_fault.rdma: bytes_committed 0, r_key, packet_length, rdma_op_len, rdma_va, pftype_token
        Cqe.putBe32(data, 4, pf.key());
        int packet = (int) Math.min(pf.length(), 0xffff);
        data[10] = (byte) (packet >>> 8);
        data[11] = (byte) packet;
        Cqe.putBe32(data, 12, (int) Math.min(pf.length(), 0xffffffffL));
        Cqe.putBe32(data, 16, (int) (pf.va() >>> 32));
        Cqe.putBe32(data, 20, (int) pf.va());
        Cqe.putBe32(data, 24, type << 24 | qp.qpn & 0xffffff);
        qp.pageFaultPending = true;
        qp.pageFaults++;
        raised++;
        eqs.post(dma, eq, MLX5_EVENT_TYPE_PAGE_FAULT, MLX5_PFAULT_SUBTYPE_RDMA, data);
        return null;
    }

    /** PAGE_FAULT_RESUME for QP {@code qp}: it tries its head WQE again, or fails it if the driver says so. */
    void resume(Resources.Qp qp, boolean error) {
        qp.pageFaultPending = false;
        qp.pageFaultError = error;
        resumed++;
    }
}
