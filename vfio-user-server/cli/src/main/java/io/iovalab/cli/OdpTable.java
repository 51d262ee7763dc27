package io.iovalab.cli;

import java.io.PrintStream;

/** The mlx5 section of the demo table: one column, the ODP exerciser's counts (absolute, not per I/O). */
final class OdpTable {
    private OdpTable() {
    }

    static void print(PrintStream out, OdpResult r) {
        String fmt = "  %-36s %16s%n";
        out.printf(fmt, "", "mlx5 ODP");
        out.println("  guest side, calls for mlx5_0");
        for (String f : GuestProbes.ODP) {
            out.printf(fmt, f, r.probe(f));
        }
        out.println("  device side");
        out.printf(fmt, "UMR WQEs executed", r.umrWqes());
        out.printf(fmt, "MTT entries loaded / zapped", r.mttLoaded() + " / " + r.mttZapped());
        out.printf(fmt, "DMA_MAP / DMA_UNMAP", r.dmaMaps() + " / " + r.dmaUnmaps());
        out.printf(fmt, "IOMMU faults", r.faults());
        out.printf(fmt, "WQE errors / failed commands", r.wqeErrors() + " / " + r.commandsFailed());
        out.printf(fmt, "exerciser", r.programOk() ? "ok" : "FAILED");
    }
}
