package io.iovalab.mlx5;

import io.iovalab.mlx5.ifc.Mlx5Ifc.manage_pages_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.manage_pages_out;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_pages_in;
import io.iovalab.mlx5.ifc.Mlx5Ifc.query_pages_out;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.iovalab.mlx5.ifc.Mlx5Const.*;

/**
 * QUERY_PAGES and MANAGE_PAGES: the firmware's memory comes from the host. At boot and before
 * INIT_HCA the driver asks how many pages we want (pagealloc.c mlx5_satisfy_startup_pages) and
 * gives them; after TEARDOWN_HCA it takes them back in batches until we hold none
 * (mlx5_reclaim_startup_pages). Each page given is touched once through the IOMMU model, so a
 * page the driver did not map is refused (and shows as a fault) when given, not later.
 */
final class PageCommands {
    private PageCommands() {
    }

    static final int PAS_SIZE = 8;

    static void register(Firmware fw) {
        fw.register(MLX5_CMD_OP_QUERY_PAGES, c -> {
            if (c.in(query_pages_in.function_id) != 0 || c.in(query_pages_in.embedded_cpu_function) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "no such function");
            }
            int target = switch (c.opMod()) {
                case MLX5_QUERY_PAGES_IN_OP_MOD_BOOT_PAGES -> fw.config.bootPages();
                case MLX5_QUERY_PAGES_IN_OP_MOD_INIT_PAGES -> fw.config.bootPages() + fw.config.initPages();
                // regular pages: the running firmware needs nothing more than it was given
                case MLX5_QUERY_PAGES_IN_OP_MOD_REGULAR_PAGES -> fw.pages.held();
                default -> throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR,
                        Syndrome.UNSUPPORTED_OP_MOD | c.opMod(), "QUERY_PAGES op_mod");
            };
            c.out(query_pages_out.function_id, 0);
            c.out(query_pages_out.num_pages, Math.max(0, target - fw.pages.held()));
        });
        fw.register(MLX5_CMD_OP_MANAGE_PAGES, c -> {
            if (c.in(manage_pages_in.function_id) != 0 || c.in(manage_pages_in.embedded_cpu_function) != 0) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM, "no such function");
            }
            long n = c.in(manage_pages_in.input_num_entries);
            switch (c.opMod()) {
                case MLX5_PAGES_CANT_GIVE -> {
                    // the driver could not allocate what we asked for; we go on with what we have
                }
                case MLX5_PAGES_GIVE -> give(fw, c, n);
                case MLX5_PAGES_TAKE -> take(fw, c, n);
                default -> throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR,
                        Syndrome.UNSUPPORTED_OP_MOD | c.opMod(), "MANAGE_PAGES op_mod");
            }
        });
    }

    private static void give(Firmware fw, Command c, long n) throws CommandException, io.iovalab.iommu.DmaFault {
        int base = manage_pages_in.pas.byteOffset();
        if (n > (c.in.length - base) / PAS_SIZE) {
            throw new CommandException(MLX5_CMD_STAT_BAD_INP_LEN_ERR, Syndrome.INPUT_TOO_SHORT,
                    n + " pages announced, " + (c.in.length - base) / PAS_SIZE + " in the message");
        }
        List<Long> pages = new ArrayList<>();
        Set<Long> seen = new HashSet<>();
        for (int i = 0; i < n; i++) {
            long iova = be64(c.in, base + i * PAS_SIZE);
            if ((iova & 0xfff) != 0 || !seen.add(iova) || fw.pages.holds(iova)) {
                throw new CommandException(MLX5_CMD_STAT_BAD_PARAM_ERR, Syndrome.BAD_PARAM,
                        "page 0x" + Long.toHexString(iova) + " unaligned or given twice");
            }
            fw.dma.readByte(iova); // must translate: a DmaFault refuses the whole command
            pages.add(iova);
        }
        fw.pages.give(pages); // all or nothing
    }

    private static void take(Firmware fw, Command c, long n) throws CommandException {
        int base = manage_pages_out.pas.byteOffset();
        long room = (c.out.length - base) / PAS_SIZE;
        if (n > room) {
            throw new CommandException(MLX5_CMD_STAT_BAD_OUTP_LEN_ERR, Syndrome.OUTPUT_TOO_SHORT,
                    "asks for " + n + " pages with room for " + room);
        }
        List<Long> back = fw.pages.take((int) n);
        for (int i = 0; i < back.size(); i++) {
            long v = back.get(i);
            for (int b = 0; b < 8; b++) {
                c.out[base + i * PAS_SIZE + b] = (byte) (v >>> (56 - 8 * b));
            }
        }
        c.out(manage_pages_out.output_num_entries, back.size());
    }

    static long be64(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = v << 8 | (b[off + i] & 0xff);
        }
        return v;
    }
}
