package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Field;
import io.iovalab.mlx5.ifc.Mlx5Ifc.cmd_hca_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.odp_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.odp_per_transport_service_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.odp_scheme_cap;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_hca_cap_out;

import java.util.HashMap;
import java.util.Map;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * The HCA capability pages: for each cap type a "max" page (what the device can do) and a
 * "current" page (what is in effect; SET_HCA_CAP changes its writable fields). Only the general
 * and the ODP page exist: the general page advertises a one-port InfiniBand HCA with ethernet,
 * flow steering, eswitch, RoCE, atomics and the optional registers off, and on-demand paging
 * (pg) with UMR-loaded translations, so mlx5_ib reports IBK_ON_DEMAND_PAGING; which is what keeps mlx5_core's probe to
 * the short command sequence of the kernel reference's "reducing scope" section (§5.6), and
 * mlx5_ib to the vport queries, a few port registers and verbs-object bookkeeping.
 */
final class Caps {
    /** The capability union (hca_cap_union) that follows the output header. */
    static final int PAGE_SIZE = query_hca_cap_out.capability.byteSize();

    /** Fields the driver writes in SET_HCA_CAP(GENERAL) (handle_hca_cap, main.c) that we let it change. */
    static final Field[] GENERAL_WRITABLE = {
            cmd_hca_cap.pkey_table_size, cmd_hca_cap.log_max_qp, cmd_hca_cap.cmdif_checksum,
            cmd_hca_cap.log_uar_page_sz, cmd_hca_cap.uar_4k, cmd_hca_cap.cache_line_128byte,
    };

    static final int LOG_MAX_EQ = 4;

    private final Mlx5Config config;
    private final Map<Integer, byte[]> max = new HashMap<>();
    private final Map<Integer, byte[]> cur = new HashMap<>();

    Caps(Mlx5Config config) {
        this.config = config;
        reset();
    }

    void reset() {
        max.clear();
        cur.clear();
        byte[] g = general();
        max.put(MLX5_CAP_GENERAL, g);
        cur.put(MLX5_CAP_GENERAL, g.clone());
        byte[] o = odp();
        max.put(MLX5_CAP_ODP, o);
        cur.put(MLX5_CAP_ODP, o.clone());
    }

    /** Byte offset of the transport scheme's RC bits in the ODP page (odp_cap → odp_scheme_cap → rc_odp_caps). */
    static final int RC_ODP_CAPS = odp_cap.transport_page_fault_scheme_cap.byteOffset() + odp_scheme_cap.rc_odp_caps.byteOffset();

    /**
     * The ODP page: the transport page-fault scheme (mem_page_fault = 0) with RC send, receive,
     * write and read. Nothing here is one of the bits handle_hca_cap_odp copies from max to cur,
     * so the driver sends no SET_HCA_CAP(ODP) — but one is accepted if it does.
     */
    private byte[] odp() {
        byte[] p = new byte[PAGE_SIZE];
        odp_per_transport_service_cap.send.set(p, RC_ODP_CAPS, 1);
        odp_per_transport_service_cap.receive.set(p, RC_ODP_CAPS, 1);
        odp_per_transport_service_cap.write.set(p, RC_ODP_CAPS, 1);
        odp_per_transport_service_cap.read.set(p, RC_ODP_CAPS, 1);
        return p;
    }

    private byte[] general() {
        byte[] p = new byte[PAGE_SIZE];
        set(p, cmd_hca_cap.port_type, 0);            // InfiniBand: no NIC vport / eswitch / ethernet code
        set(p, cmd_hca_cap.num_ports, 1);
        set(p, cmd_hca_cap.ib_virt, 1);              // mlx5_ib asks vport queries, not MAD_IFC, for port data
        set(p, cmd_hca_cap.page_request_disable, 1); // no pages EQ: pages are only asked for at boot/init
        set(p, cmd_hca_cap.driver_version, 1);       // the driver sends SET_DRIVER_VERSION
        set(p, cmd_hca_cap.xrc, 1);                  // mlx5_ib requires it
        set(p, cmd_hca_cap.rc, 1);
        set(p, cmd_hca_cap.uc, 1);
        set(p, cmd_hca_cap.ud, 1);
        set(p, cmd_hca_cap.cqe_version, 1);
        // ODP: pg, and UMR may load translations (mlx5r_umr_can_load_pas needs the entity size
        // modifiable), with offsets beyond 16 bits of octowords so ODP MRs have no size limit.
        // From here on mlx5_ib registers every user MR by UMR WQEs on its UMR QP (SendQueues).
        set(p, cmd_hca_cap.pg, 1);
        set(p, cmd_hca_cap.umr_extended_translation_offset, 1);
        set(p, cmd_hca_cap.umr_modify_entity_size_disabled, 0);
        set(p, cmd_hca_cap.log_max_eq, LOG_MAX_EQ);  // 16 EQs: async ones + completion EQs
        set(p, cmd_hca_cap.log_max_eq_sz, 22);
        set(p, cmd_hca_cap.log_max_qp, 18);
        set(p, cmd_hca_cap.log_max_qp_sz, 15);
        set(p, cmd_hca_cap.log_max_srq, 16);
        set(p, cmd_hca_cap.log_max_srq_sz, 15);
        set(p, cmd_hca_cap.log_max_cq, 16);
        set(p, cmd_hca_cap.log_max_cq_sz, 22);
        set(p, cmd_hca_cap.log_max_mkey, 20);
        set(p, cmd_hca_cap.log_max_pd, 16);
        set(p, cmd_hca_cap.log_max_xrcd, 16);
        set(p, cmd_hca_cap.log_max_msg, 30);
        set(p, cmd_hca_cap.log_max_mrw_sz, 64);
        set(p, cmd_hca_cap.log_max_klm_list_size, 16);
        set(p, cmd_hca_cap.log_max_ra_req_qp, 4);
        set(p, cmd_hca_cap.log_max_ra_res_qp, 4);
        set(p, cmd_hca_cap.max_sgl_for_optimized_performance, 8);
        set(p, cmd_hca_cap.max_wqe_sz_sq, 1024);
        set(p, cmd_hca_cap.max_wqe_sz_rq, 1024);
        set(p, cmd_hca_cap.max_tc, 0);
        set(p, cmd_hca_cap.log_max_mcg, 16);
        set(p, cmd_hca_cap.max_qp_mcg, 240);
        set(p, cmd_hca_cap.log_pg_sz, 12);
        set(p, cmd_hca_cap.bf, 0);                   // no BlueFlame: skips the write-combining self test
        set(p, cmd_hca_cap.log_bf_reg_size, 9);
        set(p, cmd_hca_cap.num_of_uars_per_page, 1);
        set(p, cmd_hca_cap.local_ca_ack_delay, 16);
        set(p, cmd_hca_cap.stat_rate_support, 0);
        set(p, cmd_hca_cap.gid_table_size, 0);       // 0 = 8 GIDs
        set(p, cmd_hca_cap.pkey_table_size, 0);      // 0 = 128 P_Keys
        set(p, cmd_hca_cap.max_indirection, 0);
        set(p, cmd_hca_cap.uar_sz, 0);
        // the internal timer (init segment 0x1000) counts nanoseconds: a 1 GHz clock for the driver's PTP/timestamps
        set(p, cmd_hca_cap.device_frequency_khz, 1_000_000);
        return p;
    }

    static void set(byte[] page, Field f, long v) {
        f.set(page, 0, v);
    }

    boolean supported(int capType) {
        return max.containsKey(capType);
    }

    byte[] page(int capType, boolean current) {
        return (current ? cur : max).get(capType);
    }

    long current(int capType, Field f) {
        byte[] p = cur.get(capType);
        return p == null ? 0 : f.get(p, 0);
    }

    long maximum(int capType, Field f) {
        byte[] p = max.get(capType);
        return p == null ? 0 : f.get(p, 0);
    }

    /**
     * SET_HCA_CAP(ODP): the driver copies the current page and sets max bits in it; every bit it
     * asks for must be one the max page has (the pages are bit sets: nothing here is a count).
     */
    void setOdp(byte[] in, int base) throws CommandException {
        byte[] m = max.get(MLX5_CAP_ODP);
        for (int i = 0; i < odp_cap.SIZE_BYTES; i++) {
            if ((in[base + i] & ~m[i]) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM,
                        "ODP cap byte 0x" + Integer.toHexString(i) + " sets a bit the device lacks");
            }
        }
        System.arraycopy(in, base, cur.get(MLX5_CAP_ODP), 0, odp_cap.SIZE_BYTES);
    }

    /** Applies the writable fields of a SET_HCA_CAP page; a value beyond the max is refused whole. */
    void setGeneral(byte[] in, int base) throws CommandException {
        byte[] m = max.get(MLX5_CAP_GENERAL);
        byte[] c = cur.get(MLX5_CAP_GENERAL);
        long qp = cmd_hca_cap.log_max_qp.get(in, base);
        if (qp > cmd_hca_cap.log_max_qp.get(m, 0)) {
            throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "log_max_qp " + qp + " beyond max");
        }
        if (cmd_hca_cap.uar_4k.get(in, base) > cmd_hca_cap.uar_4k.get(m, 0)
                || cmd_hca_cap.cache_line_128byte.get(in, base) > cmd_hca_cap.cache_line_128byte.get(m, 0)) {
            throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "sets a capability the device lacks");
        }
        for (Field f : GENERAL_WRITABLE) {
            f.set(c, 0, f.get(in, base));
        }
    }
}
