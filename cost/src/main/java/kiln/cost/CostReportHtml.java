package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * A cost report as one self-contained HTML page: inline SVG plots and tables, no scripts, styles or
 * fonts fetched from anywhere (it is mailed, attached to runs and opened offline). The plots: cost
 * over time per group (bars stacked by day), the cost by resource (CPU, memory, GPU, tokens,
 * storage), the costliest runs, and each group's idle CPU share. Hovering a bar shows its figure
 * (SVG titles).
 */
public final class CostReportHtml {
  /** Groups drawn separately in the time plot; the rest are summed as "other". */
  static final int MAX_SERIES = 7;

  static final String OTHER = "other";
  private static final String[] COLORS = {
    "#4a7ab5", "#d9a441", "#5aa469", "#c4504d", "#8a6bb1", "#4fa3a5", "#b5795a", "#9a9a9a"
  };
  private static final int WIDTH = 760;

  private CostReportHtml() {}

  public static String render(CostReport report) {
    requireNonNull(report, "report is null");
    StringBuilder page = new StringBuilder();
    page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<title>Kiln cost report</title><style>")
        .append("body{font-family:sans-serif;margin:2em;max-width:800px}")
        .append("table{border-collapse:collapse}td,th{padding:2px 8px;text-align:right}")
        .append("td:first-child,th:first-child{text-align:left}")
        .append("figure{margin:1.5em 0}figcaption{font-weight:bold;margin-bottom:.4em}")
        .append("</style></head><body>\n")
        .append("<h1>Kiln cost since ")
        .append(esc(report.since().toString()))
        .append("</h1>\n<p>")
        .append(
            String.format(
                Locale.ROOT,
                "Known cost %s over %d runs, grouped by %s; idle CPU %.1f%% of the CPU cost.",
                money(report.total()),
                report.groups().stream().mapToLong(CostReport.Group::runs).sum(),
                esc(String.join(", ", report.groupBy())),
                100 * report.idleShare()));
    long unknown = report.groups().stream().mapToLong(CostReport.Group::unknownRuns).sum();
    if (unknown > 0) {
      page.append(" ")
          .append(unknown)
          .append(
              " runs of unknown cost (a GPU or model the catalog does not price) are not included:"
                  + " the figures are a floor.");
    }
    page.append("</p>\n");
    if (report.groups().isEmpty()) {
      page.append("<p>No priced runs since then.</p>\n");
    } else {
      figure(page, "cost-over-time", "Cost over time per group (UTC days)", overTime(report));
      figure(page, "cost-by-resource", "Cost by resource", byResource(report));
      figure(page, "top-runs", "The costliest runs", topRuns(report));
      figure(page, "idle-share", "Idle CPU share per group (reserved, not used)", idle(report));
    }
    page.append("<h2>Per group</h2>\n").append(table(report));
    return page.append("</body></html>\n").toString();
  }

  private static void figure(StringBuilder page, String id, String caption, String svg) {
    page.append("<figure id=\"")
        .append(id)
        .append("\"><figcaption>")
        .append(esc(caption))
        .append("</figcaption>\n")
        .append(svg)
        .append("</figure>\n");
  }

  /** Bars by day, stacked by group: the {@value #MAX_SERIES} costliest groups, then "other". */
  static String overTime(CostReport report) {
    List<String> series = new ArrayList<>();
    for (CostReport.Group g : report.groups()) {
      if (series.size() < MAX_SERIES) {
        series.add(g.label());
      }
    }
    boolean other = report.groups().size() > MAX_SERIES;
    if (other) {
      series.add(OTHER);
    }
    TreeMap<LocalDate, Map<String, Double>> days = new TreeMap<>();
    for (CostReport.Day d : report.days()) {
      String s = series.contains(d.group()) && !d.group().equals(OTHER) ? d.group() : OTHER;
      days.computeIfAbsent(LocalDate.parse(d.day()), k -> new LinkedHashMap<>())
          .merge(s, d.total(), Double::sum);
    }
    // every day from the first to the last, so gaps show as gaps
    List<LocalDate> axis = new ArrayList<>();
    if (!days.isEmpty()) {
      LocalDate first = days.firstKey();
      LocalDate last = days.lastKey();
      for (LocalDate d = first; !d.isAfter(last); d = d.plusDays(1)) {
        axis.add(d);
      }
    }
    double max = 0;
    for (Map<String, Double> day : days.values()) {
      max = Math.max(max, day.values().stream().mapToDouble(Double::doubleValue).sum());
    }
    int left = 70;
    int plotHeight = 200;
    int top = 10;
    int legendRows = (series.size() + 2) / 3;
    int height = top + plotHeight + 40 + 18 * legendRows;
    StringBuilder svg = svg(height);
    double slot = axis.isEmpty() ? 0 : (double) (WIDTH - left - 10) / axis.size();
    double bar = Math.max(1, slot * 0.8);
    svg.append(line(left, top, left, top + plotHeight))
        .append(line(left, top + plotHeight, WIDTH - 10, top + plotHeight))
        .append(text(left - 5, top + 10, money(max), "end"))
        .append(text(left - 5, top + plotHeight, "0", "end"));
    int labelEvery = Math.max(1, (int) Math.ceil(axis.size() / 8.0));
    for (int i = 0; i < axis.size(); i++) {
      LocalDate day = axis.get(i);
      double x = left + i * slot + (slot - bar) / 2;
      double y = top + plotHeight;
      Map<String, Double> values = days.getOrDefault(day, Map.of());
      for (int s = 0; s < series.size(); s++) {
        Double v = values.get(series.get(s));
        if (v == null || v <= 0 || max == 0) {
          continue;
        }
        double h = plotHeight * v / max;
        y -= h;
        svg.append(rect(x, y, bar, h, color(s), series.get(s) + ", " + day + ": " + money(v)));
      }
      if (i % labelEvery == 0) {
        svg.append(text(x + bar / 2, top + plotHeight + 15, day.toString(), "middle"));
      }
    }
    legend(svg, series, top + plotHeight + 30);
    return svg.append("</svg>\n").toString();
  }

  /** One bar split by resource, each part labelled with its share. */
  static String byResource(CostReport report) {
    Map<String, Double> parts = report.byResource();
    double sum = parts.values().stream().mapToDouble(Double::doubleValue).sum();
    List<String> names = new ArrayList<>();
    parts.forEach(
        (k, v) ->
            names.add(
                String.format(
                    Locale.ROOT, "%s %s (%.1f%%)", k, money(v), sum == 0 ? 0 : 100 * v / sum)));
    StringBuilder svg = svg(40 + 18 * ((names.size() + 2) / 3) + 10);
    double x = 10;
    int i = 0;
    for (Map.Entry<String, Double> e : parts.entrySet()) {
      double w = sum == 0 ? 0 : (WIDTH - 20) * e.getValue() / sum;
      if (w > 0) {
        svg.append(rect(x, 5, w, 24, color(i), names.get(i)));
      }
      x += w;
      i++;
    }
    legend(svg, names, 45);
    return svg.append("</svg>\n").toString();
  }

  /** The costliest runs as bars, labelled job, run and group. */
  static String topRuns(CostReport report) {
    List<CostReport.Run> runs = report.topRuns();
    double max = runs.stream().mapToDouble(CostReport.Run::total).max().orElse(0);
    StringBuilder svg = svg(22 * runs.size() + 10);
    int y = 5;
    for (CostReport.Run r : runs) {
      double w = max == 0 ? 0 : 300 * r.total() / max;
      String label =
          r.job() + " " + shortId(r.runId()) + " (" + r.group() + ", " + r.start().toString() + ")";
      svg.append(text(0, y + 13, clip(label, 62), "start"))
          .append(rect(380, y, w, 16, color(0), label + ": " + money(r.total())))
          .append(text(385 + w, y + 13, money(r.total()), "start"));
      y += 22;
    }
    return svg.append("</svg>\n").toString();
  }

  /** Each group's idle CPU over its CPU cost, 0-100%. */
  static String idle(CostReport report) {
    StringBuilder svg = svg(22 * report.groups().size() + 10);
    int y = 5;
    for (CostReport.Group g : report.groups()) {
      double share = g.idleShare();
      double w = 400 * share;
      String figure = String.format(Locale.ROOT, "%.1f%%", 100 * share);
      svg.append(text(0, y + 13, clip(g.label(), 36), "start"))
          .append(rect(260, y, 400, 16, "#eeeeee", g.label() + ": CPU " + money(g.cpu())))
          .append(rect(260, y, w, 16, color(1), g.label() + ": idle " + figure))
          .append(text(665, y + 13, figure, "start"));
      y += 22;
    }
    return svg.append("</svg>\n").toString();
  }

  static String table(CostReport report) {
    StringBuilder t = new StringBuilder("<table>\n<tr>");
    for (String key : report.groupBy()) {
      t.append("<th>").append(esc(key)).append("</th>");
    }
    for (String h :
        List.of(
            "runs", "total", "cpu", "memory", "gpu", "tokens", "storage", "idle cpu", "unknown")) {
      t.append("<th>").append(h).append("</th>");
    }
    t.append("</tr>\n");
    for (CostReport.Group g : report.groups()) {
      t.append("<tr>");
      for (String key : report.groupBy()) {
        t.append("<td>").append(esc(g.key().get(key))).append("</td>");
      }
      t.append("<td>").append(g.runs()).append("</td>");
      for (double v :
          new double[] {
            g.total(), g.cpu(), g.memory(), g.gpu(), g.tokens(), g.storage(), g.idleCpu()
          }) {
        t.append("<td>").append(money(v)).append("</td>");
      }
      t.append("<td>").append(g.unknownRuns()).append("</td></tr>\n");
    }
    return t.append("</table>\n").toString();
  }

  private static void legend(StringBuilder svg, List<String> names, int y) {
    int column = (WIDTH - 20) / 3;
    for (int i = 0; i < names.size(); i++) {
      int x = 10 + (i % 3) * column;
      int row = y + 18 * (i / 3);
      svg.append(rect(x, row - 10, 12, 12, color(i), names.get(i)))
          .append(text(x + 16, row, clip(names.get(i), 36), "start"));
    }
  }

  private static StringBuilder svg(int height) {
    // inline SVG in HTML needs no xmlns, and leaving it out keeps the page free of any URL
    return new StringBuilder(
        String.format(
            Locale.ROOT,
            "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">",
            WIDTH,
            height,
            WIDTH,
            height));
  }

  private static String rect(double x, double y, double w, double h, String fill, String title) {
    return String.format(
        Locale.ROOT,
        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>%s</title></rect>",
        x,
        y,
        w,
        h,
        fill,
        esc(title));
  }

  private static String text(double x, double y, String s, String anchor) {
    return String.format(
        Locale.ROOT,
        "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"%s\">%s</text>",
        x,
        y,
        anchor,
        esc(s));
  }

  private static String line(int x1, int y1, int x2, int y2) {
    return String.format(
        Locale.ROOT,
        "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#444\"/>",
        x1,
        y1,
        x2,
        y2);
  }

  private static String color(int i) {
    return COLORS[i % COLORS.length];
  }

  private static String money(double v) {
    return String.format(Locale.ROOT, v != 0 && Math.abs(v) < 0.01 ? "%.6f" : "%.2f", v);
  }

  private static String shortId(String runId) {
    return runId == null ? "" : runId.length() > 8 ? runId.substring(0, 8) : runId;
  }

  private static String clip(String s, int n) {
    return s.length() <= n ? s : s.substring(0, n - 1) + "…";
  }

  static String esc(String s) {
    return s == null
        ? ""
        : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }
}
