package kiln.drift;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.Errors;

/**
 * The drift report as one self-contained HTML page (inline CSS and SVG, no scripts or links, so it
 * works offline and as an MLflow artifact): the verdict, a summary sorted by severity, and per
 * column the reference and current histograms overlaid.
 */
public final class DriftReport {
  private static final String REFERENCE_COLOUR = "#3b6fb6";
  private static final String CURRENT_COLOUR = "#e07b22";

  private DriftReport() {}

  public static Path write(DriftResult result, Path file) {
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(file, html(result));
      return file;
    } catch (IOException e) {
      throw Errors.badInput(
          "cannot write the report to " + file + ": " + e.getMessage(),
          "give a writable path to --report");
    }
  }

  public static String html(DriftResult result) {
    StringBuilder page = new StringBuilder(16_384);
    page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Drift: ")
        .append(escape(result.current().label()))
        .append(" vs ")
        .append(escape(result.reference().label()))
        .append("</title>\n<style>")
        .append(
            "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222;max-width:1100px}")
        .append(
            "table{border-collapse:collapse;margin:1em 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}")
        .append(
            "th{background:#f4f4f4}.DRIFTED,.MISSING_IN_CURRENT,.TYPE_CHANGED{color:#b00020;font-weight:bold}")
        .append(".STABLE{color:#1b7f3b}.num{text-align:right;font-variant-numeric:tabular-nums}")
        .append(".feature{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1.5em 0}")
        .append(".verdict{font-size:1.3em;padding:.6em 1em;border-radius:6px;display:inline-block}")
        .append(".yes{background:#fde7ea;color:#b00020}.no{background:#e6f4ea;color:#1b7f3b}")
        .append(
            ".legend span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px;vertical-align:middle}")
        .append("small{color:#666}</style></head><body>\n");
    page.append("<h1>Drift report</h1>\n<p>Reference: <b>")
        .append(escape(result.reference().label()))
        .append("</b> (")
        .append(String.format(Locale.ROOT, "%,d", result.referenceRows()))
        .append(" rows")
        .append(result.referenceProfileReused() ? ", stored profile reused" : "")
        .append(")<br>Current: <b>")
        .append(escape(result.current().label()))
        .append("</b> (")
        .append(String.format(Locale.ROOT, "%,d", result.currentRows()))
        .append(" rows)</p>\n");
    page.append("<p class=\"verdict ")
        .append(result.drifted() ? "yes" : "no")
        .append("\">")
        .append(escape(result.summary()))
        .append("</p>\n");
    Thresholds t = result.thresholds();
    page.append("<p><small>Thresholds: PSI &ge; ")
        .append(t.psi())
        .append(", p-value &lt; ")
        .append(t.pValue())
        .append(" (correction: ")
        .append(t.correction().toString().toLowerCase(Locale.ROOT))
        .append("), null rate change &gt; ")
        .append(t.nullRate())
        .append(", dataset drifted when &ge; ")
        .append(Math.round(t.driftShare() * 100))
        .append("% of features drift.</small></p>\n");

    page.append(
            "<h2>Summary, by severity</h2>\n<table><tr><th>column</th><th>role</th><th>kind</th><th>verdict</th>")
        .append(
            "<th class=\"num\">PSI</th><th class=\"num\">KS / &chi;&sup2; p-value</th><th class=\"num\">JS distance</th>")
        .append("<th class=\"num\">null rate ref &rarr; cur</th><th>why</th></tr>\n");
    for (FeatureDrift f : result.features()) {
      Map<String, Double> s = f.statistics();
      Double p = s.containsKey("ks_p_value") ? s.get("ks_p_value") : s.get("chi_squared_p_value");
      page.append("<tr><td><a href=\"#")
          .append(anchor(f.name()))
          .append("\">")
          .append(escape(f.name()))
          .append("</a></td><td>")
          .append(f.role().toString().toLowerCase(Locale.ROOT))
          .append("</td><td>")
          .append(escape(f.kind()))
          .append("</td><td class=\"")
          .append(f.verdict())
          .append("\">")
          .append(f.verdict())
          .append("</td><td class=\"num\">")
          .append(number(s.get("psi")))
          .append(interval(s, "psi"))
          .append("</td><td class=\"num\">")
          .append(number(p))
          .append("</td><td class=\"num\">")
          .append(number(s.get("jensen_shannon")))
          .append(interval(s, "jensen_shannon"))
          .append("</td><td class=\"num\">")
          .append(number(s.get("null_rate_reference")))
          .append(" &rarr; ")
          .append(number(s.get("null_rate_current")))
          .append("</td><td>")
          .append(escape(f.reasons().isEmpty() ? "" : f.reasons().get(0)))
          .append("</td></tr>\n");
    }
    page.append("</table>\n<p class=\"legend\"><span style=\"background:")
        .append(REFERENCE_COLOUR)
        .append("\"></span>reference <span style=\"background:")
        .append(CURRENT_COLOUR)
        .append("\"></span>current</p>\n");

    for (FeatureDrift f : result.features()) {
      page.append("<div class=\"feature\" id=\"")
          .append(anchor(f.name()))
          .append("\"><h3>")
          .append(escape(f.name()))
          .append(" <small>")
          .append(escape(f.kind()))
          .append(", ")
          .append(f.role().toString().toLowerCase(Locale.ROOT))
          .append("</small> <span class=\"")
          .append(f.verdict())
          .append("\">")
          .append(f.verdict())
          .append("</span></h3>\n");
      if (!f.reasons().isEmpty()) {
        page.append("<ul>");
        f.reasons().forEach(r -> page.append("<li>").append(escape(r)).append("</li>"));
        page.append("</ul>\n");
      }
      page.append(svg(f.histogram(), f.kind().equals("categorical")));
      if (!f.newCategories().isEmpty()) {
        page.append("<p>New categories: ")
            .append(escape(String.join(", ", f.newCategories())))
            .append("</p>");
      }
      if (!f.missingCategories().isEmpty()) {
        page.append("<p>Missing categories: ")
            .append(escape(String.join(", ", f.missingCategories())))
            .append("</p>");
      }
      page.append("<details><summary>All statistics</summary><table>");
      f.statistics()
          .forEach(
              (k, v) ->
                  page.append("<tr><td>")
                      .append(escape(k))
                      .append("</td><td class=\"num\">")
                      .append(number(v))
                      .append("</td></tr>"));
      page.append("</table></details></div>\n");
    }
    page.append(
            "<p><small>Made by Kiln drift. PSI bins: reference quantiles (empty bins floored at 1e-4); KS p-value exact")
        .append(
            " for samples up to 10,000 values, otherwise asymptotic; sketched columns state their error bound, and an interval that holds the exact PSI, JS and Hellinger values.</small></p>\n");
    page.append("</body></html>\n");
    return page.toString();
  }

  /** Overlaid bars: reference behind, current in front, both semi-transparent. */
  static String svg(Histogram histogram, boolean categorical) {
    List<String> labels = histogram.labels();
    if (labels.isEmpty()) {
      return "<p><small>No values to plot.</small></p>\n";
    }
    int width = 900;
    int height = 220;
    int left = 50;
    int bottom = 110;
    double max = 0;
    for (int i = 0; i < labels.size(); i++) {
      max = Math.max(max, Math.max(histogram.reference().get(i), histogram.current().get(i)));
    }
    max = max <= 0 ? 1 : max;
    double slot = (double) (width - left - 10) / labels.size();
    StringBuilder svg = new StringBuilder();
    svg.append("<svg width=\"")
        .append(width)
        .append("\" height=\"")
        .append(height + bottom)
        .append("\" role=\"img\" font-size=\"10\">");
    svg.append("<line x1=\"")
        .append(left)
        .append("\" y1=\"")
        .append(height)
        .append("\" x2=\"")
        .append(width - 10)
        .append("\" y2=\"")
        .append(height)
        .append("\" stroke=\"#888\"/>");
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"%d\" y=\"12\" text-anchor=\"end\">%.0f%%</text>",
            left - 4,
            max * 100));
    for (int i = 0; i < labels.size(); i++) {
      double x = left + i * slot;
      svg.append(
          String.format(
              Locale.ROOT,
              "<g><title>%s: reference %.2f%%, current %.2f%%</title>",
              escape(labels.get(i)),
              histogram.reference().get(i) * 100,
              histogram.current().get(i) * 100));
      bar(
          svg,
          x + slot * 0.1,
          slot * 0.8,
          histogram.reference().get(i) / max * (height - 15),
          height,
          REFERENCE_COLOUR,
          0.55);
      bar(
          svg,
          x + slot * 0.25,
          slot * 0.5,
          histogram.current().get(i) / max * (height - 15),
          height,
          CURRENT_COLOUR,
          0.75);
      svg.append("</g>");
      // every bin is labelled: at most 20 numeric bins (the reference's quantiles) or kept
      // categories
      double cx = x + slot / 2;
      svg.append(
          String.format(
              Locale.ROOT,
              "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" transform=\"rotate(-45 %.1f %d)\">%s</text>",
              cx,
              height + 14,
              cx,
              height + 14,
              escape(labels.get(i))));
    }
    svg.append("</svg>\n");
    svg.append("<details><summary>Shares per bin</summary><table><tr><th>bin</th>")
        .append("<th>reference</th><th>current</th></tr>");
    for (int i = 0; i < labels.size(); i++) {
      svg.append(
          String.format(
              Locale.ROOT,
              "<tr><td>%s</td><td class=\"num\">%.2f%%</td><td class=\"num\">%.2f%%</td></tr>",
              escape(labels.get(i)),
              histogram.reference().get(i) * 100,
              histogram.current().get(i) * 100));
    }
    svg.append("</table></details>\n");
    if (!categorical) {
      svg.append(
          "<p><small>Bins: the reference's quantiles, the ones its PSI is computed on; each holds"
              + " about the same share of the reference, so the current side's bars show where"
              + " the values moved.</small></p>\n");
    }
    return svg.toString();
  }

  private static void bar(
      StringBuilder svg, double x, double w, double h, int base, String colour, double opacity) {
    svg.append(
        String.format(
            Locale.ROOT,
            "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\" fill-opacity=\"%.2f\"/>",
            x,
            base - h,
            Math.max(0.5, w),
            h,
            colour,
            opacity));
  }

  /**
   * For a sketched column: the interval that holds the exact value (see NumericComparison), else
   * nothing.
   */
  private static String interval(Map<String, Double> statistics, String metric) {
    Double low = statistics.get(metric + "_low");
    Double high = statistics.get(metric + "_high");
    if (low == null || high == null) {
      return "";
    }
    return "<br><small>sketched, in [" + number(low) + ", " + number(high) + "]</small>";
  }

  private static String number(Double value) {
    if (value == null) {
      return "";
    }
    if (value.isNaN() || value.isInfinite()) {
      return value.toString();
    }
    if (value != 0 && (Math.abs(value) < 1e-3 || Math.abs(value) >= 1e6)) {
      return String.format(Locale.ROOT, "%.3g", value);
    }
    return String.format(Locale.ROOT, "%.4f", value);
  }

  private static String anchor(String name) {
    return "col-" + name.replaceAll("[^A-Za-z0-9_-]", "_");
  }

  static String escape(String text) {
    StringBuilder out = new StringBuilder(text.length());
    for (char ch : text.toCharArray()) {
      switch (ch) {
        case '<' -> out.append("&lt;");
        case '>' -> out.append("&gt;");
        case '&' -> out.append("&amp;");
        case '"' -> out.append("&quot;");
        case '\'' -> out.append("&#39;");
        default -> out.append(ch);
      }
    }
    return out.toString();
  }
}
