package kiln.contracts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.contracts.internal.Expectation;
import kiln.contracts.internal.MetricsRepository.Point;
import kiln.core.DatasetRef;

/**
 * The verdict of a check for people and machines: a console table, a JSON report, a self-contained
 * HTML report.
 */
public final class ContractReports {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ContractReports() {}

  /**
   * A plain-text table: status, severity, rule, metric, value, expectation; then the summary line.
   */
  public static String table(ContractResult result) {
    List<String[]> rows = new ArrayList<>();
    rows.add(new String[] {"STATUS", "SEVERITY", "RULE", "METRIC", "VALUE", "EXPECTATION"});
    for (RuleResult r : result.rules()) {
      rows.add(
          new String[] {
            status(r),
            r.severity().toString(),
            r.name(),
            r.metric(),
            value(r.value()),
            r.expectation() == null ? "" : r.expectation()
          });
    }
    int[] widths = new int[6];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        widths[i] = Math.min(Math.max(widths[i], row[i].length()), i == 5 ? 60 : 40);
      }
    }
    StringBuilder text = new StringBuilder();
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        String cell =
            row[i].length() > widths[i] ? row[i].substring(0, widths[i] - 1) + "…" : row[i];
        text.append(i == 0 ? "" : "  ").append(i == row.length - 1 ? cell : pad(cell, widths[i]));
      }
      text.append('\n');
    }
    for (RuleResult r : result.rules()) {
      if (r.failed() && r.message() != null) {
        text.append(r.severity() == Severity.ERROR ? "error: " : "warning: ")
            .append(r.name())
            .append(": ")
            .append(r.message())
            .append('\n');
      }
    }
    if (!result.notChecked().isEmpty()) {
      text.append("not checked (standard fields Kiln does not act on): ")
          .append(String.join(", ", result.notChecked()))
          .append('\n');
    }
    text.append(result.summary()).append('\n');
    return text.toString();
  }

  public static String json(ContractResult result, long quarantinedRows, DatasetRef quarantine) {
    Map<String, Object> root = new LinkedHashMap<>();
    root.put(
        "contract",
        Map.of(
            "id",
            result.contractId(),
            "version",
            result.contractVersion(),
            "object",
            result.object()));
    root.put(
        "dataset",
        result.dataset() == null
            ? null
            : Map.of("table", result.dataset().table(), "version", result.dataset().version()));
    root.put("status", result.passed() ? "passed" : "failed");
    root.put("checkedAt", result.checkedAt().toString());
    root.put("elapsedSeconds", result.elapsed().toMillis() / 1000.0);
    root.put("rows", result.rows());
    root.put("errors", result.errors().size());
    root.put("warnings", result.warnings().size());
    root.put("passedRules", result.passedCount());
    List<Map<String, Object>> schema = new ArrayList<>();
    for (SchemaDifference d : result.schemaDifferences()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("column", d.column());
      m.put("expected", d.expected());
      m.put("actual", d.actual());
      schema.add(m);
    }
    root.put("schemaDifferences", schema);
    List<Map<String, Object>> rules = new ArrayList<>();
    for (RuleResult r : result.rules()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("name", r.name());
      m.put("severity", r.severity().toString());
      m.put("status", r.status().toString());
      m.put("metric", r.metric());
      m.put("column", r.column());
      m.put(
          "value",
          r.value() == null || r.value().isNaN() || r.value().isInfinite() ? null : r.value());
      m.put("expectation", r.expectation());
      m.put("message", r.message());
      m.put("rowLevel", r.rowLevel());
      rules.add(m);
    }
    root.put("rules", rules);
    root.put(
        "quarantine",
        quarantine == null
            ? null
            : Map.of(
                "table",
                quarantine.table(),
                "version",
                quarantine.version(),
                "rows",
                quarantinedRows));
    List<Map<String, Object>> metrics = new ArrayList<>();
    for (MetricValue v : result.metrics()) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("entity", v.entity());
      m.put("instance", v.instance());
      m.put("name", v.name());
      m.put("value", Double.isFinite(v.value()) ? v.value() : null);
      metrics.add(m);
    }
    root.put("metrics", metrics);
    root.put("notChecked", result.notChecked());
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the JSON report", e);
    }
  }

  /**
   * A self-contained HTML page (no scripts, no network): the summary, a bar per rule showing how
   * its value sits against its bounds, the rules table, and line charts of the metric history over
   * dataset versions.
   */
  public static String html(ContractResult result, Map<String, List<Point>> history) {
    StringBuilder page = new StringBuilder();
    String title =
        "Contract "
            + result.contractId()
            + " "
            + result.contractVersion()
            + (result.dataset() == null ? "" : " on " + result.dataset());
    page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>")
        .append(esc(title))
        .append(
            "</title>\n<style>body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
                + "table{border-collapse:collapse;margin:1em 0}td,th{border-bottom:1px solid #ddd;padding:4px 10px;text-align:left;"
                + "font-size:14px;vertical-align:top}th{background:#f4f4f4}.passed{color:#1a7f37}.failed{color:#cf222e}"
                + ".warning{color:#9a6700}.skipped{color:#777}.badge{font-weight:bold;font-size:20px}"
                + "figure{display:inline-block;margin:0 1.5em 1em 0}figcaption{font-size:13px;color:#555}</style>"
                + "</head><body>\n");
    page.append("<h1>").append(esc(title)).append("</h1>\n");
    page.append("<p class=\"badge ")
        .append(result.passed() ? "passed\">PASSED" : "failed\">FAILED")
        .append("</p>\n");
    page.append("<p>")
        .append(esc(result.summary()))
        .append("<br>checked at ")
        .append(esc(result.checkedAt().toString()))
        .append(
            result.rows() >= 0
                ? ", " + String.format(Locale.ROOT, "%,d", result.rows()) + " rows"
                : "")
        .append("</p>\n");
    page.append(summaryBar(result));
    if (!result.schemaDifferences().isEmpty()) {
      page.append("<h2>Schema differences</h2><ul>");
      result
          .schemaDifferences()
          .forEach(
              d -> page.append("<li class=\"failed\">").append(esc(d.describe())).append("</li>"));
      page.append("</ul>\n");
    }
    page.append(
        "<h2>Rules</h2>\n<table><tr><th>status</th><th>severity</th><th>rule</th><th>metric</th><th>value</th>"
            + "<th>expectation</th><th>against bounds</th><th>message</th></tr>\n");
    for (RuleResult r : result.rules()) {
      page.append("<tr><td class=\"")
          .append(cssClass(r))
          .append("\">")
          .append(status(r))
          .append("</td><td>")
          .append(r.severity())
          .append("</td><td>")
          .append(esc(r.name()))
          .append("</td><td>")
          .append(esc(r.metric()))
          .append("</td><td>")
          .append(esc(value(r.value())))
          .append("</td><td>")
          .append(esc(r.expectation()))
          .append("</td><td>")
          .append(gauge(r))
          .append("</td><td>")
          .append(esc(r.message() == null ? "" : r.message()))
          .append("</td></tr>\n");
    }
    page.append("</table>\n");
    if (!result.notChecked().isEmpty()) {
      page.append("<h2>Not checked</h2>\n<p>Standard fields of the contract Kiln does not act on: ")
          .append(esc(String.join(", ", result.notChecked())))
          .append("</p>\n");
    }
    List<String> charts = new ArrayList<>();
    history.forEach(
        (key, points) -> {
          if (points.size() >= 2) {
            charts.add(lineChart(key.replace("|*", "").replace('|', ' '), points));
          }
        });
    if (!charts.isEmpty()) {
      page.append("<h2>Metric history by dataset version</h2>\n");
      charts.forEach(page::append);
    }
    page.append("</body></html>\n");
    return page.toString();
  }

  private static String summaryBar(ContractResult result) {
    long passed = result.passedCount();
    long errors = result.errors().size();
    long warnings = result.warnings().size();
    long skipped =
        result.rules().stream().filter(r -> r.status() == RuleResult.Status.SKIPPED).count();
    long total = Math.max(1, passed + errors + warnings + skipped);
    double width = 600;
    StringBuilder svg =
        new StringBuilder(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"620\" height=\"46\" role=\"img\""
                + " aria-label=\"rules by status\">");
    double x = 0;
    long[] counts = {passed, warnings, errors, skipped};
    String[] colors = {"#2da44e", "#d4a72c", "#cf222e", "#aaaaaa"};
    String[] labels = {"passed", "warnings", "errors", "skipped"};
    for (int i = 0; i < counts.length; i++) {
      double w = width * counts[i] / total;
      if (w > 0) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"20\" fill=\"%s\"><title>%d %s</title></rect>",
                x,
                w,
                colors[i],
                counts[i],
                labels[i]));
        svg.append(
            String.format(
                Locale.ROOT,
                "<text x=\"%.1f\" y=\"40\" font-size=\"12\">%d %s</text>",
                x + 2,
                counts[i],
                labels[i]));
      }
      x += w;
    }
    return svg.append("</svg>\n").toString();
  }

  /** A small bar: the expected range in green, the value as a marker (red when it fails). */
  private static String gauge(RuleResult r) {
    if (r.value() == null || !Double.isFinite(r.value()) || r.expectation() == null) {
      return "";
    }
    double[] bounds = bounds(r.expectation());
    if (bounds == null) {
      return "";
    }
    double low = Math.min(bounds[0], r.value());
    double high = Math.max(bounds[1], r.value());
    double span = high - low;
    if (span <= 0) {
      span = Math.max(1e-9, Math.abs(high));
      low -= span / 2;
      high += span / 2;
      span = high - low;
    }
    double pad = span * 0.1;
    low -= pad;
    span += 2 * pad;
    double w = 160;
    double x0 = (bounds[0] - low) / span * w;
    double x1 = (bounds[1] - low) / span * w;
    double xv = (r.value() - low) / span * w;
    return String.format(
        Locale.ROOT,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"164\" height=\"16\">"
            + "<rect x=\"0\" y=\"6\" width=\"%.1f\" height=\"4\" fill=\"#eee\"/>"
            + "<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"8\" fill=\"#aee0b6\"/>"
            + "<circle cx=\"%.1f\" cy=\"8\" r=\"4\" fill=\"%s\"><title>%s</title></circle></svg>",
        w,
        x0,
        Math.max(1.5, x1 - x0),
        xv,
        r.failed() ? "#cf222e" : "#1a7f37",
        esc(value(r.value())));
  }

  /**
   * The closed range an expectation text states, when it states one: "between a and b", ">= a", "=
   * a".
   */
  static double[] bounds(String expectation) {
    String text = expectation.replace(" rows", "").replace(" %", "");
    try {
      if (text.startsWith("between ")) {
        String[] parts = text.substring(8).split(" and ");
        return new double[] {Double.parseDouble(parts[0]), Double.parseDouble(parts[1])};
      }
      for (String op : List.of(">= ", "> ")) {
        if (text.startsWith(op)) {
          double v = Double.parseDouble(text.substring(op.length()));
          return new double[] {v, v + Math.max(1, Math.abs(v))};
        }
      }
      for (String op : List.of("<= ", "< ")) {
        if (text.startsWith(op)) {
          double v = Double.parseDouble(text.substring(op.length()));
          return new double[] {v - Math.max(1, Math.abs(v)), v};
        }
      }
      if (text.startsWith("= ")) {
        double v = Double.parseDouble(text.substring(2));
        return new double[] {v, v};
      }
    } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
      return null;
    }
    return null;
  }

  private static String lineChart(String label, List<Point> points) {
    double w = 320;
    double h = 140;
    double left = 60;
    double bottom = 24;
    long minV = points.get(0).version();
    long maxV = points.get(points.size() - 1).version();
    double minY = points.stream().mapToDouble(Point::value).min().orElse(0);
    double maxY = points.stream().mapToDouble(Point::value).max().orElse(1);
    if (maxY == minY) {
      maxY = minY + Math.max(1, Math.abs(minY) * 0.1);
      minY = minY - Math.max(1, Math.abs(minY) * 0.1);
    }
    StringBuilder svg =
        new StringBuilder(
            "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\""
                + (int) w
                + "\" height=\""
                + (int) h
                + "\">");
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>",
            left,
            h - bottom,
            w - 10,
            h - bottom));
    svg.append(
        String.format(
            Locale.ROOT,
            "<line x1=\"%.0f\" y1=\"8\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"#999\"/>",
            left,
            left,
            h - bottom));
    svg.append(
        String.format(
            Locale.ROOT, "<text x=\"2\" y=\"14\" font-size=\"10\">%s</text>", esc(value(maxY))));
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"2\" y=\"%.0f\" font-size=\"10\">%s</text>",
            h - bottom,
            esc(value(minY))));
    StringBuilder path = new StringBuilder();
    for (Point p : points) {
      double x =
          left
              + (maxV == minV ? 0.5 : (double) (p.version() - minV) / (maxV - minV))
                  * (w - left - 20);
      double y = 8 + (1 - (p.value() - minY) / (maxY - minY)) * (h - bottom - 8);
      path.append(path.length() == 0 ? "M" : " L")
          .append(String.format(Locale.ROOT, "%.1f %.1f", x, y));
      svg.append(
          String.format(
              Locale.ROOT,
              "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#0969da\"><title>v%d: %s</title></circle>",
              x,
              y,
              p.version(),
              esc(value(p.value()))));
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%.0f\" font-size=\"10\" text-anchor=\"middle\">v%d</text>",
              x,
              h - 8,
              p.version()));
    }
    svg.append("<path d=\"")
        .append(path)
        .append("\" fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.5\"/>");
    svg.append("</svg><figcaption>").append(esc(label)).append("</figcaption></figure>\n");
    return svg.toString();
  }

  private static String status(RuleResult r) {
    if (r.failed() && r.severity() == Severity.WARNING) {
      return "WARN";
    }
    return switch (r.status()) {
      case PASSED -> "PASS";
      case FAILED -> "FAIL";
      case SKIPPED -> "SKIP";
    };
  }

  private static String cssClass(RuleResult r) {
    if (r.failed() && r.severity() == Severity.WARNING) {
      return "warning";
    }
    return r.status().toString();
  }

  static String value(Double value) {
    return value == null ? "-" : Expectation.format(value);
  }

  private static String pad(String text, int width) {
    return text.length() >= width ? text : text + " ".repeat(width - text.length());
  }

  static String esc(String text) {
    if (text == null) {
      return "";
    }
    return text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
