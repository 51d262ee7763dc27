package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.create_mkey_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.create_mkey_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.destroy_mkey_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.mkc;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * CREATE_MKEY / DESTROY_MKEY. The driver builds the key as mkey_index << 8 | mkey_7_0; we hand
 * out the index. A PA-mode key (the ib_mad PD's DMA MR: length64, no translation) needs no
 * table; an MTT key carries its translation entries after the fixed input, and a "free" key
 * (created empty for UMR to fill later) none. The entries and access rights are kept: the data
 * path translates through them ({@link MemoryKeys}). UMR WQEs ({@link SendQueues}) later load,
 * zap, enable and revoke keys.
 */
final class MkeyCommands {
    private MkeyCommands() {
    }

    static void register(Firmware fw) {
        Resources r = fw.resources;
        fw.register(MLX5_CMD_OP_CREATE_MKEY, c -> {
            fw.requireState(Firmware.HcaState.INITIALIZED);
            int ctx = create_mkey_in.memory_key_mkey_entry.byteOffset();
            c.requireIn(create_mkey_in.klm_pas_mtt.byteOffset());
            int pd = (int) c.in(ctx, mkc.pd);
            boolean free = c.in(ctx, mkc.free) != 0;
            int mode = (int) (c.in(ctx, mkc.access_mode_4_2) << 2 | c.in(ctx, mkc.access_mode_1_0));
            if (r.pds.get(pd) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "pd " + pd + " does not exist");
            }
            switch (mode) {
                case MLX5_MKC_ACCESS_MODE_PA -> {
                }
                case MLX5_MKC_ACCESS_MODE_MTT, MLX5_MKC_ACCESS_MODE_KLMS, MLX5_MKC_ACCESS_MODE_KSM -> {
                    if (!free && c.in(create_mkey_in.mkey_umem_valid) == 0) {
                        // the translation table (MTT: 8-byte page addresses | read/write flags) must be in the message
                        long octwords = c.in(create_mkey_in.translations_octword_actual_size);
                        if (octwords > (c.in.length - create_mkey_in.klm_pas_mtt.byteOffset()) / 16) {
                            throw new CommandException(MLX5_CMD_STAT_BAD_INP_LEN_ERR, Syndrome.INPUT_TOO_SHORT,
                                    octwords + " translation octwords announced");
                        }
                    }
                }
                default -> throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "access mode " + mode);
            }
            long start = c.in(ctx, mkc.start_addr);
            long len = c.in(ctx, mkc.len);
            boolean len64 = c.in(ctx, mkc.length64) != 0;
            int variant = (int) c.in(ctx, mkc.mkey_7_0);
            int logPage = (int) c.in(ctx, mkc.log_page_size);
            int access = MemoryKeys.access(c.in, ctx);
            // the MTT entries in the message (a pinned MR's pages); an ODP or cache key is loaded by UMR later
            long[] entries = new long[0];
            if (mode == MLX5_MKC_ACCESS_MODE_MTT && !free && c.in(create_mkey_in.mkey_umem_valid) == 0) {
                int n = (int) Math.min(c.in(create_mkey_in.translations_octword_actual_size) * 2,
                        (c.in.length - create_mkey_in.klm_pas_mtt.byteOffset()) / 8);
                entries = new long[n];
                for (int i = 0; i < n; i++) {
                    entries[i] = PageCommands.be64(c.in, create_mkey_in.klm_pas_mtt.byteOffset() + 8 * i);
                }
            }
            long[] mtt = entries;
            int index = r.mkeys.add(n -> {
                Resources.Mkey k = new Resources.Mkey(n, pd, mode, free, start, len, len64);
                k.variant = variant;
                k.logPageSize = logPage;
                k.access = access;
                for (int i = 0; i < mtt.length; i++) {
                    if (mtt[i] != 0) {
                        k.mtt.put((long) i, mtt[i]);
                    }
                }
                return k;
            });
            if (index < 0) {
                throw new CommandException(MLX5_CMD_STAT_LIM_ERR, Syndrome.NO_RESOURCE, "no mkey left");
            }
            c.out(create_mkey_out.mkey_index, index);
        });
        fw.register(MLX5_CMD_OP_DESTROY_MKEY, c -> {
            int index = (int) c.in(destroy_mkey_in.mkey_index);
            if (r.mkeys.remove(index) == null) {
                throw new CommandException(MLX5_CMD_STAT_BAD_RES_ERR, Syndrome.BAD_RESOURCE, "mkey index " + index + " does not exist");
            }
        });
    }
}
