package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * PAGE_FAULT_RESUME: the driver has handled a page fault (or given up on it, error bit) and the
 * QP named by wq_number may go on. The layout (page_fault_resume_in with trans_page_fault_info
 * at 0x40) is written out here because the generated file does not carry it.
 */
final class PageFaultCommands {
    private PageFaultCommands() {
    }

    // mlx5_ifc_page_fault_resume_in_bits / mlx5_ifc_trans_page_fault_info_bits
    static final Field error = new Field(0x40, 0x1);
    static final Field page_fault_type = new Field(0x45, 0x3);
    static final Field wq_number = new Field(0x48, 0x18);
    static final Field fault_token = new Field(0x68, 0x18);
    static final int SIZE_BYTES = 0x10;

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_PAGE_FAULT_RESUME, c -> {
            int qpn = (int) c.in(wq_number);
            Resources.Qp qp = fw.resources.qps.get(qpn);
            if (qp == null) {
                // the QP went away while its fault was being handled: nothing to resume
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "QP " + qpn + " does not exist");
            }
            if (!qp.pageFaultPending) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM,
                        "QP 0x" + Integer.toHexString(qpn) + " has no page fault outstanding");
            }
            fw.pageFaultResumed.accept(qp, c.in(error) != 0);
        });
    }
}
