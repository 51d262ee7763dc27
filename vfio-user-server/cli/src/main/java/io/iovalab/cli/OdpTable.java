package io.iovalab.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The mlx5 section of the demo and compare tables: one column per kernel (demo has one), the ODP
 * exerciser's counts (absolute, not per I/O). Rows are shared with the compare report's table.
 */
final class OdpTable {
    /** A row: its label, or a section heading when {@code cell} is null. */
    record Row(String label, Function<OdpResult, String> cell) {
    }

    private OdpTable() {
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("guest side, calls for mlx5_0", null));
        for (String f : GuestProbes.ODP) {
            rows.add(new Row(f, r -> Long.toString(r.probe(f))));
        }
        rows.add(new Row("device side", null));
        rows.add(new Row("UMR WQEs executed", r -> Long.toString(r.umrWqes())));
        rows.add(new Row("MTT entries loaded / zapped", r -> r.mttLoaded() + " / " + r.mttZapped()));
        rows.add(new Row("MTT IOVA ranges for the ODP MR", OdpTable::ranges));
        rows.add(new Row("DMA_MAP / DMA_UNMAP", r -> r.dmaMaps() + " / " + r.dmaUnmaps()));
        rows.add(new Row("IOMMU faults", r -> Long.toString(r.faults())));
        rows.add(new Row("WQE errors / failed commands", r -> r.wqeErrors() + " / " + r.commandsFailed()));
        rows.add(new Row("exerciser", r -> r.programOk() ? "ok" : "FAILED"));
        return rows;
    }

    /** "ranges of entries" after the prefetch, so one range reads as the whole MR being contiguous. */
    static String ranges(OdpResult r) {
        return r.mttEntries() < 0 ? "MR not found" : r.mttIovaRanges() + " of " + r.mttEntries() + " entries";
    }

    static void print(PrintStream out, OdpResult r) {
        print(out, List.of(""), List.of(r));
    }

    /** {@code headings}: one per column, above "mlx5 ODP" (blank for demo's single column). */
    static void print(PrintStream out, List<String> headings, List<OdpResult> results) {
        String fmt = "  %-36s" + " %16s".repeat(results.size()) + "%n";
        if (headings.stream().anyMatch(h -> !h.isEmpty())) {
            out.printf(fmt, line("", headings, h -> h.length() <= 16 ? h : h.replaceAll("[-+].*", "")));
        }
        out.printf(fmt, line("", headings, h -> "mlx5 ODP"));
        for (Row row : rows()) {
            if (row.cell() == null) {
                out.println("  " + row.label());
            } else {
                out.printf(fmt, line(row.label(), results, row.cell()));
            }
        }
    }

    private static <T> Object[] line(String label, List<T> columns, Function<T, String> cell) {
        Object[] a = new Object[columns.size() + 1];
        a[0] = label;
        for (int i = 0; i < columns.size(); i++) {
            a[i + 1] = cell.apply(columns.get(i));
        }
        return a;
    }
}
