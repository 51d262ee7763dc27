package io.iovalab.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * The terminal table both demo and compare print: one row per figure, one column per phase
 * (compare puts two kernels' phases side by side, the kernel above the phase name).
 */
final class ResultTable {
    /** One column: {@code kernel} is blank when the whole table is one kernel. */
    record Column(String kernel, PhaseResult phase) {
    }

    /** A row: its label, or a section heading when {@code cell} is null. */
    record Row(String label, Function<PhaseResult, String> cell) {
    }

    private ResultTable() {
    }

    static List<Column> columns(KernelRun... runs) {
        List<Column> c = new ArrayList<>();
        for (KernelRun r : runs) {
            for (PhaseResult p : r.phases()) {
                c.add(new Column(runs.length > 1 ? r.kernel() : "", p));
            }
        }
        return c;
    }

    static List<Row> rows() {
        List<Row> rows = new ArrayList<>();
        rows.add(new Row("guest side, calls per I/O", null));
        for (String f : GuestProbes.FUNCTIONS) {
            rows.add(new Row(f, p -> fixed2(p.perIo(p.probe(f)))));
        }
        rows.add(new Row("device side", null));
        rows.add(new Row("DMA_MAP per I/O", p -> fixed2(p.perIo(p.dmaMaps()))));
        rows.add(new Row("DMA_UNMAP per I/O", p -> fixed2(p.perIo(p.dmaUnmaps()))));
        rows.add(new Row("commands", p -> Long.toString(p.commands())));
        rows.add(new Row("  IOVA ranges per command, mean", p -> fixed2(meanRanges(p))));
        rows.add(new Row("multi-page commands", p -> Long.toString(p.multiPage())));
        rows.add(new Row("  in one contiguous IOVA range", p -> Long.toString(p.contiguous())));
        rows.add(new Row("commands with PRP / SGL", p -> p.prpCommands() + " / " + p.sglCommands()));
        rows.add(new Row("IOMMU faults", p -> Long.toString(p.faults())));
        rows.add(new Row("bytes moved", p -> Long.toString(p.bytes())));
        rows.add(new Row("fio", null));
        rows.add(new Row("IOPS", p -> String.format("%.0f", p.iops())));
        rows.add(new Row("bandwidth KiB/s", p -> String.format("%.0f", p.bandwidthKiB())));
        rows.add(new Row("latency p50 / p99 µs", p -> String.format("%.0f / %.0f", p.p50Micros(), p.p99Micros())));
        rows.add(new Row("errors", p -> Long.toString(p.fioErrors())));
        return rows;
    }

    static void print(PrintStream out, List<Column> columns) {
        int width = columns.size() > 2 ? 14 : 16;
        StringBuilder fmt = new StringBuilder("  %-36s");
        fmt.append((" %" + width + "s").repeat(columns.size())).append("%n");
        if (columns.stream().anyMatch(c -> !c.kernel().isEmpty())) {
            out.printf(fmt.toString(), line("", columns, c -> shorten(c.kernel(), width)));
        }
        out.printf(fmt.toString(), line("", columns, c -> c.phase().name()));
        for (Row r : rows()) {
            if (r.cell() == null) {
                out.println("  " + r.label());
            } else {
                out.printf(fmt.toString(), line(r.label(), columns, c -> r.cell().apply(c.phase())));
            }
        }
    }

    /** Mean distinct IOVA ranges per data-moving command, from the histogram (last bucket counted at its floor). */
    static double meanRanges(PhaseResult p) {
        long n = 0;
        long sum = 0;
        long[] h = p.rangesPerCommand();
        for (int i = 0; i < h.length; i++) {
            n += h[i];
            sum += h[i] * (i + 1);
        }
        return n == 0 ? 0 : (double) sum / n;
    }

    private static Object[] line(String label, List<Column> columns, Function<Column, String> cell) {
        Object[] a = new Object[columns.size() + 1];
        a[0] = label;
        for (int i = 0; i < columns.size(); i++) {
            a[i + 1] = cell.apply(columns.get(i));
        }
        return a;
    }

    /** A release too wide for its column keeps its version (6.12.48+deb13-amd64 → 6.12.48); the title has it whole. */
    private static String shorten(String s, int width) {
        if (s.length() <= width) {
            return s;
        }
        int cut = s.replaceAll("[-+].*", "").length();
        return cut <= width ? s.substring(0, cut) : s.substring(0, width - 1) + "…";
    }

    private static String fixed2(double v) {
        return String.format("%.2f", v);
    }
}
