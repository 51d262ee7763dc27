package io.iovalab.cli;

import java.util.List;
import java.util.Locale;

/**
 * A grouped bar chart as inline SVG: categories along x, one bar per series in each. The report
 * must open offline and from a file, so the plots are plain SVG markup rather than a script.
 */
final class SvgBarChart {
    record Series(String name, String colour, double[] values) {
    }

    private static final int TOP = 56;
    private static final int BOTTOM = 46;
    private static final int LEFT = 64;
    private static final int RIGHT = 12;

    private SvgBarChart() {
    }

    static String render(String title, int width, int height, List<String> categories, List<Series> series) {
        double max = 0;
        for (Series s : series) {
            for (double v : s.values()) {
                max = Math.max(max, v);
            }
        }
        double top = niceCeiling(max * 1.05); // headroom for the value printed above the tallest bar
        int plotW = width - LEFT - RIGHT;
        int plotH = height - TOP - BOTTOM;
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT,
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\">%n",
                width, height, width, height));
        b.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"18\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", LEFT,
                Html.escape(title)));
        legend(b, series);
        for (int i = 0; i <= 4; i++) {
            double v = top * i / 4;
            double y = TOP + plotH - plotH * i / 4.0;
            b.append(String.format(Locale.ROOT,
                    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dddddd\"/>"
                            + "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>%n",
                    LEFT, y, LEFT + plotW, y, LEFT - 6, y + 4, number(v)));
        }
        double group = (double) plotW / categories.size();
        double bar = group * 0.8 / series.size();
        for (int c = 0; c < categories.size(); c++) {
            double x0 = LEFT + c * group + group * 0.1;
            for (int s = 0; s < series.size(); s++) {
                double v = series.get(s).values()[c];
                double h = top == 0 ? 0 : plotH * v / top;
                double x = x0 + s * bar;
                b.append(String.format(Locale.ROOT,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s: %s</title></rect>%n",
                        x, TOP + plotH - h, Math.max(bar - 1, 1), h, series.get(s).colour(),
                        Html.escape(series.get(s).name()), number(v)));
                if (bar >= 14) {
                    b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"9\" text-anchor=\"middle\">%s</text>%n",
                            x + bar / 2, TOP + plotH - h - 3, number(v)));
                }
            }
            b.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>%n",
                    LEFT + c * group + group / 2, TOP + plotH + 16, Html.escape(categories.get(c))));
        }
        b.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#333333\"/>%n",
                LEFT, TOP + plotH, LEFT + plotW, TOP + plotH));
        return b.append("</svg>\n").toString();
    }

    private static void legend(StringBuilder b, List<Series> series) {
        double x = LEFT;
        for (Series s : series) {
            b.append(String.format(Locale.ROOT,
                    "<rect x=\"%.1f\" y=\"28\" width=\"12\" height=\"12\" fill=\"%s\"/>"
                            + "<text x=\"%.1f\" y=\"38\" font-size=\"11\">%s</text>%n",
                    x, s.colour(), x + 16, Html.escape(s.name())));
            x += 24 + 6.5 * s.name().length();
        }
    }

    /** A round number at or above {@code v} whose quarters are round too: the four gridlines get short labels. */
    static double niceCeiling(double v) {
        if (v <= 0) {
            return 1;
        }
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }

    static String number(double v) {
        if (v == Math.rint(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Math.abs(v) >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.2f", v);
    }
}
