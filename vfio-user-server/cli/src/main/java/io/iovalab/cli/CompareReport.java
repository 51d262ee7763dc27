package io.iovalab.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The self-contained HTML report of {@code iovalab compare}: the plots (inline SVG), the
 * verdict sentences and the same table the terminal shows. One file, no scripts, nothing fetched.
 */
final class CompareReport {
    /** Per kernel: the small-request phase's colour, then the large-request phase's (kernel A warm, B cool). */
    static final String[][] COLOURS = {{"#fdae6b", "#e6550d"}, {"#9ecae1", "#3182bd"}};

    private static final List<String> MAP_CALLS = List.of("dma_iova_try_alloc", "dma_iova_link", "dma_map_phys",
            "dma_map_page_attrs", "dma_map_sg_attrs", "dma_map_sgtable");

    private CompareReport() {
    }

    static String html(KernelRun a, KernelRun b, List<String> summary) {
        KernelRun[] runs = {a, b};
        StringBuilder h = new StringBuilder();
        h.append("""
                <!DOCTYPE html>
                <html lang="en"><head><meta charset="utf-8"><title>iovalab compare</title>
                <style>
                body { font-family: sans-serif; margin: 16px; color: #222; background: #ffffff; }
                .row { display: flex; gap: 16px; margin: 12px 0; }
                table { border-collapse: collapse; font-size: 12px; }
                td, th { padding: 2px 10px; text-align: right; border-bottom: 1px solid #eeeeee; }
                td:first-child, th:first-child { text-align: left; }
                td.section { font-weight: bold; padding-top: 8px; }
                </style></head><body>
                """);
        h.append("<h1>iovalab compare: ").append(Html.escape(a.kernel())).append(" vs ").append(Html.escape(b.kernel()))
                .append("</h1>\n<ul>\n");
        for (String s : summary) {
            h.append("<li>").append(Html.escape(s)).append("</li>\n");
        }
        h.append("</ul>\n");
        if (a.hasNvme() && b.hasNvme()) {
            h.append("<div class=\"row\">\n");
            for (int k = 0; k < 2; k++) {
                h.append(rangesHistogram(runs[k], COLOURS[k]));
            }
            h.append("</div>\n<div class=\"row\">\n").append(mapCalls(runs)).append("</div>\n<div class=\"row\">\n");
            h.append(perKernel("IOPS", runs, List.of(p -> p.iops()), List.of("")));
            h.append(perKernel("fio completion latency, µs", runs, List.of(PhaseResult::p50Micros, PhaseResult::p99Micros),
                    List.of(" p50", " p99")));
            h.append("</div>\n");
            table(h, runs);
        }
        if (a.mlx5() != null && b.mlx5() != null) {
            h.append("<div class=\"row\">\n").append(mttRanges(runs)).append("</div>\n");
            odpTable(h, runs);
        }
        return h.append("</body></html>\n").toString();
    }

    private static String rangesHistogram(KernelRun run, String[] colours) {
        int buckets = run.phases().getFirst().rangesPerCommand().length;
        List<String> categories = new ArrayList<>();
        for (int i = 1; i <= buckets; i++) {
            categories.add(i == buckets ? i + "+" : Integer.toString(i));
        }
        List<SvgBarChart.Series> series = new ArrayList<>();
        for (int p = 0; p < run.phases().size(); p++) {
            PhaseResult phase = run.phases().get(p);
            double[] share = new double[buckets];
            for (int i = 0; i < buckets; i++) {
                share[i] = phase.commands() == 0 ? 0 : 100.0 * phase.rangesPerCommand()[i] / phase.commands();
            }
            series.add(new SvgBarChart.Series(phase.name(), colours[p % colours.length], share));
        }
        return SvgBarChart.render(run.kernel() + ": IOVA ranges per command (%)", 560, 300, categories,
                series);
    }

    /** The ODP MR's translation table as the device was handed it: one IOVA range (7.3) or one per page (6.12). */
    private static String mttRanges(KernelRun[] runs) {
        List<SvgBarChart.Series> series = new ArrayList<>();
        for (int k = 0; k < runs.length; k++) {
            OdpResult odp = runs[k].mlx5();
            series.add(new SvgBarChart.Series(runs[k].kernel(), COLOURS[k][1],
                    new double[] {Math.max(0, odp.mttEntries()), Math.max(0, odp.mttIovaRanges())}));
        }
        return SvgBarChart.render("mlx5 ODP MR's MTT after prefetch", 560, 300, List.of("MTT entries", "contiguous IOVA ranges"),
                series);
    }

    private static String mapCalls(KernelRun[] runs) {
        List<String> categories = new ArrayList<>(List.of("DMA_MAP", "DMA_UNMAP"));
        categories.addAll(MAP_CALLS);
        List<SvgBarChart.Series> series = new ArrayList<>();
        for (int k = 0; k < runs.length; k++) {
            for (int p = 0; p < runs[k].phases().size(); p++) {
                PhaseResult phase = runs[k].phases().get(p);
                double[] v = new double[categories.size()];
                v[0] = phase.perIo(phase.dmaMaps());
                v[1] = phase.perIo(phase.dmaUnmaps());
                for (int i = 0; i < MAP_CALLS.size(); i++) {
                    v[i + 2] = phase.perIo(phase.probe(MAP_CALLS.get(i)));
                }
                series.add(new SvgBarChart.Series(runs[k].kernel() + " " + phase.name(), COLOURS[k][p % 2], v));
            }
        }
        return SvgBarChart.render("Device DMA_MAP/UNMAP and guest map calls per I/O", 1136, 320, categories, series);
    }

    /** One bar per kernel for each phase (and figure): the kernel's large-phase colour. */
    private static String perKernel(String title, KernelRun[] runs, List<ToDoubleFunction<PhaseResult>> figures,
                                    List<String> suffixes) {
        List<String> categories = new ArrayList<>();
        for (PhaseResult p : runs[0].phases()) {
            for (String s : suffixes) {
                categories.add(p.name() + s);
            }
        }
        List<SvgBarChart.Series> series = new ArrayList<>();
        for (int k = 0; k < runs.length; k++) {
            double[] v = new double[categories.size()];
            int i = 0;
            for (PhaseResult p : runs[k].phases()) {
                for (ToDoubleFunction<PhaseResult> f : figures) {
                    v[i++] = f.applyAsDouble(p);
                }
            }
            series.add(new SvgBarChart.Series(runs[k].kernel(), COLOURS[k][1], v));
        }
        return SvgBarChart.render(title, 560, 300, categories, series);
    }

    private static void table(StringBuilder h, KernelRun[] runs) {
        List<ResultTable.Column> columns = ResultTable.columns(runs);
        h.append("<table>\n<tr><th></th>");
        for (ResultTable.Column c : columns) {
            h.append("<th>").append(Html.escape(c.kernel())).append("<br>").append(Html.escape(c.phase().name())).append("</th>");
        }
        h.append("</tr>\n");
        for (ResultTable.Row r : ResultTable.rows()) {
            if (r.cell() == null) {
                h.append("<tr><td class=\"section\" colspan=\"").append(columns.size() + 1).append("\">")
                        .append(Html.escape(r.label())).append("</td></tr>\n");
                continue;
            }
            h.append("<tr><td>").append(Html.escape(r.label())).append("</td>");
            for (ResultTable.Column c : columns) {
                h.append("<td>").append(Html.escape(r.cell().apply(c.phase()))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }

    private static void odpTable(StringBuilder h, KernelRun[] runs) {
        h.append("<table>\n<tr><th></th>");
        for (KernelRun r : runs) {
            h.append("<th>").append(Html.escape(r.kernel())).append("<br>mlx5 ODP</th>");
        }
        h.append("</tr>\n");
        for (OdpTable.Row r : OdpTable.rows()) {
            if (r.cell() == null) {
                h.append("<tr><td class=\"section\" colspan=\"3\">").append(Html.escape(r.label())).append("</td></tr>\n");
                continue;
            }
            h.append("<tr><td>").append(Html.escape(r.label())).append("</td>");
            for (KernelRun k : runs) {
                h.append("<td>").append(Html.escape(r.cell().apply(k.mlx5()))).append("</td>");
            }
            h.append("</tr>\n");
        }
        h.append("</table>\n");
    }
}
