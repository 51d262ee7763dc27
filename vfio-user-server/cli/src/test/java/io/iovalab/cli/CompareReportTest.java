package io.iovalab.cli;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The report draws the figures it was given, in each kernel's colours, and stays self-contained. */
class CompareReportTest {
    static PhaseResult phase(String name, long ios, long sgl, long link, long[] ranges) {
        return new PhaseResult(name, Map.of("dma_iova_link", link, "dma_map_phys", ios), ios, ios / 8.0, ios * 0.5, 900, 2400,
                0, ios * 3, ios * 3, ios, ranges, ios, ios, 0, ios * 65536, ios - sgl, sgl);
    }

    static KernelRun run(String kernel, long sgl, long link) {
        return new KernelRun("image " + kernel, kernel, List.of(phase("4k-randread", 4000, 0, 0, new long[] {4000, 0, 0}),
                phase("64k-randread", 1600, sgl, link, new long[] {1200, 400, 0})));
    }

    private static double barHeight(String html, String colour) {
        Matcher m = Pattern.compile("height=\"([0-9.]+)\" fill=\"" + colour + "\"><title>").matcher(html);
        double total = 0;
        while (m.find()) {
            total += Double.parseDouble(m.group(1));
        }
        return total;
    }

    @Test
    void both_kernels_have_bars_in_their_colours_and_nothing_is_fetched() {
        String html = CompareReport.html(run("6.12", 0, 0), run("7.3", 1600, 24800), List.of("a <summary>"));
        for (String[] kernel : CompareReport.COLOURS) {
            for (String colour : kernel) {
                assertTrue(barHeight(html, colour) > 100, colour + " bars are drawn");
            }
        }
        assertEquals(5, html.split("<svg ", -1).length - 1, "two histograms, map calls, IOPS, latency");
        assertFalse(html.contains("<script"), "no scripts");
        assertFalse(html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "").matches("(?s).*(https?:|src=|href=).*"),
                "nothing is fetched");
        assertTrue(html.contains("a &lt;summary&gt;"), "summary text is escaped");
    }

    @Test
    void dma_iova_link_bar_is_drawn_only_for_the_kernel_that_called_it() {
        String html = CompareReport.html(run("6.12", 0, 0), run("7.3", 1600, 24800), List.of());
        Matcher seven = Pattern.compile("height=\"([0-9.]+)\" fill=\"[^\"]+\"><title>7\\.3 64k-randread: 15\\.50</title>").matcher(html);
        assertTrue(seven.find(), "7.3's 15.50 dma_iova_link per I/O has a bar");
        assertTrue(Double.parseDouble(seven.group(1)) > 150, seven.group(1));
        assertFalse(html.contains("<title>6.12 64k-randread: 15.50</title>"));
    }

    @Test
    void summary_says_when_contiguity_is_the_same_and_how_data_pointers_differ() {
        List<String> s = CompareSummary.lines(run("6.12", 0, 0), run("7.3", 1600, 24800));
        assertTrue(s.stream().anyMatch(l -> l.startsWith("NVMe IOVA contiguity: no device-side difference")), String.valueOf(s));
        assertTrue(s.stream().anyMatch(l -> l.contains("differ, 1600 PRP / 0 SGL on 6.12, 0 PRP / 1600 SGL on 7.3")),
                String.valueOf(s));
        List<String> same = CompareSummary.lines(run("6.12", 1600, 0), run("7.3", 1600, 24800));
        assertTrue(same.stream().anyMatch(l -> l.contains("the same form on both, 0 PRP / 1600 SGL on 6.12")), String.valueOf(same));
        assertTrue(s.getFirst().contains("two-step DMA API: NO"), s.getFirst());
        assertTrue(s.get(1).contains("two-step DMA API: YES"), s.get(1));
    }

    static KernelRun withOdp(KernelRun r, OdpResult odp) {
        return new KernelRun(r.label(), r.kernel(), r.phases(), odp);
    }

    @Test
    void mlx5_odp_mtt_ranges_are_in_the_summary_the_terminal_table_and_the_report() {
        KernelRun a = withOdp(run("6.12", 0, 0), DemoVerdictTest.odp(0, 0, 0, 0, true, 32));
        KernelRun b = withOdp(run("7.3", 1600, 24800), DemoVerdictTest.odp(32, 32, 0, 0, true, 1));
        List<String> s = CompareSummary.lines(a, b);
        assertTrue(s.contains("mlx5 ODP MR's MTT IOVA contiguity differs: contiguous IOVA ranges 32 of 32 entries on 6.12, "
                + "1 of 32 entries on 7.3"), String.valueOf(s));
        assertTrue(s.stream().anyMatch(l -> l.startsWith("6.12: mlx5 ODP two-step DMA API: NO")), String.valueOf(s));
        assertTrue(s.stream().anyMatch(l -> l.startsWith("7.3: mlx5 ODP two-step DMA API: YES")), String.valueOf(s));
        List<String> same = CompareSummary.lines(a, withOdp(b, DemoVerdictTest.odp(32, 32, 0, 0, true, 32)));
        assertTrue(same.stream().anyMatch(l -> l.startsWith("mlx5 ODP MR's MTT IOVA contiguity: no device-side difference")),
                String.valueOf(same));

        java.io.ByteArrayOutputStream t = new java.io.ByteArrayOutputStream();
        OdpTable.print(new java.io.PrintStream(t, true, java.nio.charset.StandardCharsets.UTF_8), List.of("6.12", "7.3"),
                List.of(a.mlx5(), b.mlx5()));
        assertTrue(t.toString(java.nio.charset.StandardCharsets.UTF_8)
                .matches("(?s).*MTT IOVA ranges for the ODP MR\\s+32 of 32 entries\\s+1 of 32 entries\\n.*"), t.toString());

        String html = CompareReport.html(a, b, s);
        assertTrue(html.contains("<tr><td>MTT IOVA ranges for the ODP MR</td><td>32 of 32 entries</td><td>1 of 32 entries</td></tr>"),
                html);
        assertFalse(CompareReport.html(run("6.12", 0, 0), run("7.3", 1600, 24800), List.of()).contains("mlx5 ODP"),
                "no mlx5 table without the device");
    }

    @Test
    void an_mlx5_only_compare_reports_the_mtt_contiguity_without_nvme_lines() {
        KernelRun old = new KernelRun("image baseline", "6.12", List.of(), DemoVerdictTest.odp(32, 0, 0, 0, true, 32));
        KernelRun now = new KernelRun("image default", "7.3", List.of(), DemoVerdictTest.odp(64, 32, 0, 0, true, 1));
        List<String> s = CompareSummary.lines(old, now);
        assertTrue(s.stream().noneMatch(l -> l.contains("NVMe")), String.valueOf(s));
        assertTrue(s.contains("mlx5 ODP MR's MTT IOVA contiguity differs: contiguous IOVA ranges 32 of 32 entries on 6.12, "
                + "1 of 32 entries on 7.3"), String.valueOf(s));
        String html = CompareReport.html(old, now, s);
        assertEquals(1, html.split("<svg ", -1).length - 1, "the MTT chart only");
        assertEquals(2, html.split("<title>6.12: 32</title>", -1).length - 1, "6.12: 32 entries in 32 ranges");
        assertTrue(html.contains("<title>7.3: 32</title>") && html.contains("<title>7.3: 1</title>"), "7.3: 32 entries in 1 range");
        assertTrue(html.contains("mlx5 ODP</th>"), "the ODP table");
    }
}
