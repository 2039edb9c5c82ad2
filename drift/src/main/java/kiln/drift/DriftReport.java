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
    page.append(monitoring(result));
    page.append(
            "<p><small>Made by Kiln drift. PSI bins: reference quantiles (empty bins floored at 1e-4); KS p-value exact")
        .append(
            " for samples up to 10,000 values, otherwise asymptotic; sketched columns state their error bound, and an interval that holds the exact PSI, JS and Hellinger values.</small></p>\n");
    page.append("</body></html>\n");
    return page.toString();
  }

  /**
   * The sections over chunks: multivariate drift, estimated performance and each column's PSI per
   * chunk, each a line over the chunks with its band and the alerts marked.
   */
  static String monitoring(DriftResult result) {
    StringBuilder page = new StringBuilder();
    MultivariateDrift m = result.multivariate();
    if (m != null || result.multivariateNote() != null) {
      page.append("<h2 id=\"multivariate\">Multivariate drift: PCA reconstruction error</h2>\n");
    }
    if (m != null) {
      page.append("<p>")
          .append(m.components())
          .append(" principal component(s) of ")
          .append(m.columns().size())
          .append(" standardised features (categories as their reference share; ")
          .append(escape(String.join(", ", m.columns())))
          .append(") explain ")
          .append(String.format(Locale.ROOT, "%.1f%%", m.varianceExplained() * 100))
          .append(" of the reference's variance. Band: the reference chunks' mean &plusmn; 3 std, ")
          .append(number(m.lower()))
          .append(" to ")
          .append(number(m.upper()))
          .append("; <span class=\"")
          .append(m.drifted() ? "DRIFTED\">" : "STABLE\">")
          .append(m.alerts())
          .append(" of ")
          .append(m.current().size())
          .append(" current chunk(s) outside</span>.</p>\n");
      page.append(
          lines(
              m.reference(), m.current(), ChunkValue::value, null, m.lower(), m.upper(), "error"));
    } else if (result.multivariateNote() != null) {
      page.append("<p><small>Not computed: ")
          .append(escape(result.multivariateNote()))
          .append("</small></p>\n");
    }
    DomainClassifierDrift d = result.domainClassifier();
    if (d != null) {
      page.append("<h2 id=\"domain-classifier\">Multivariate drift: domain classifier</h2>\n<p>")
          .append("Gradient-boosted trees trained to tell reference rows from each chunk's rows (")
          .append(d.folds())
          .append("-fold cross-validated ROC AUC, at most ")
          .append(d.maxRowsPerSide())
          .append(" rows per side) on ")
          .append(escape(String.join(", ", d.numeric())))
          .append(d.numeric().isEmpty() || d.categorical().isEmpty() ? "" : "; ")
          .append(escape(String.join(", ", d.categorical())))
          .append(". 0.5: the sides cannot be told apart. Drifted above ")
          .append(number(d.threshold()))
          .append("; <span class=\"")
          .append(d.drifted() ? "DRIFTED\">" : "STABLE\">")
          .append(d.alerts())
          .append(" of ")
          .append(d.current().size())
          .append(" chunk(s) above</span>.</p>\n");
      page.append(
          lines(List.of(), d.current(), ChunkValue::value, null, 0.5, d.threshold(), "AUC"));
    }
    for (PerformanceEstimate e : result.estimated()) {
      page.append("<h2>Estimated ")
          .append(escape(e.metric()))
          .append(" without labels (")
          .append(e.method())
          .append(")</h2>\n<p>")
          .append(
              e.method().equals("DLE")
                  ? "Direct loss estimation: a model of each row's loss fitted on the labelled"
                      + " reference. "
                  : "The scores calibrated on the labelled reference. ")
          .append("Band: the reference chunks' realized ")
          .append(escape(e.metric()))
          .append(" &plusmn; 3 std, ")
          .append(number(e.lower()))
          .append(" to ")
          .append(number(e.upper()))
          .append(". Solid: estimated; dotted: realized where labels exist. Each chunk's sampling")
          .append(" error comes from the reference's per-row values scaled by the chunk's size;")
          .append(" the confidence band is the estimate &plusmn; 3 sampling errors.</p>\n");
      page.append(
          lines(
              e.reference(),
              e.current(),
              ChunkValue::value,
              ChunkValue::realized,
              e.lower(),
              e.upper(),
              e.metric()));
      page.append("<table><tr><th>chunk</th><th class=\"num\">rows</th>")
          .append(
              "<th class=\"num\">estimated</th><th class=\"num\">sampling error</th>"
                  + "<th class=\"num\">confidence band</th><th class=\"num\">realized</th>"
                  + "<th>alert</th></tr>");
      for (ChunkValue c : e.current()) {
        page.append("<tr><td>")
            .append(escape(c.chunk()))
            .append("</td><td class=\"num\">")
            .append(c.rows())
            .append("</td><td class=\"num\">")
            .append(number(c.value()))
            .append("</td><td class=\"num\">")
            .append(Double.isNaN(c.samplingError()) ? "-" : number(c.samplingError()))
            .append("</td><td class=\"num\">")
            .append(
                Double.isNaN(c.samplingError())
                    ? "-"
                    : number(Math.max(0, c.value() - 3 * c.samplingError()))
                        + " to "
                        + number(
                            e.method().equals("CBPE")
                                ? Math.min(1, c.value() + 3 * c.samplingError())
                                : c.value() + 3 * c.samplingError()))
            .append("</td><td class=\"num\">")
            .append(Double.isNaN(c.realized()) ? "no labels" : number(c.realized()))
            .append("</td><td class=\"")
            .append(c.alert() ? "DRIFTED\">outside the band" : "STABLE\">")
            .append("</td></tr>");
      }
      page.append("</table>\n");
    }
    if (!result.chunks().isEmpty()) {
      page.append("<h2 id=\"chunks\">Drift over chunks (")
          .append(escape(result.chunking()))
          .append(")</h2>\n<p>Each current chunk against the whole reference: ")
          .append(result.chunks().stream().filter(ChunkDrift::drifted).count())
          .append(" of ")
          .append(result.chunks().size())
          .append(" chunks drifted. Per column its PSI per chunk, the threshold dashed, drifted")
          .append(" chunks marked red.</p>\n");
      java.util.LinkedHashSet<String> names = new java.util.LinkedHashSet<>();
      result.chunks().forEach(c -> c.features().forEach(f -> names.add(f.name())));
      for (String name : names) {
        List<ChunkValue> psi = new java.util.ArrayList<>();
        for (ChunkDrift c : result.chunks()) {
          c.features().stream()
              .filter(f -> f.name().equals(name))
              .findFirst()
              .ifPresent(
                  f ->
                      psi.add(
                          new ChunkValue(
                              c.chunk(),
                              c.rows(),
                              f.statistic("psi").orElse(Double.NaN),
                              Double.NaN,
                              Double.NaN,
                              f.drifted())));
        }
        page.append("<h3>")
            .append(escape(name))
            .append(" <small>PSI per chunk</small></h3>\n")
            .append(
                lines(
                    List.of(),
                    psi,
                    ChunkValue::value,
                    null,
                    Double.NaN,
                    result.thresholds().psi(),
                    "psi"));
      }
    }
    return page.toString();
  }

  /**
   * A line over the chunks: the reference chunks (blue) then the current ones (orange), an optional
   * second series dotted, the band's ends dashed, alerts as red dots.
   */
  static String lines(
      List<ChunkValue> reference,
      List<ChunkValue> current,
      java.util.function.ToDoubleFunction<ChunkValue> value,
      java.util.function.ToDoubleFunction<ChunkValue> second,
      double lower,
      double upper,
      String axis) {
    List<ChunkValue> all = new java.util.ArrayList<>(reference);
    all.addAll(current);
    if (all.isEmpty()) {
      return "<p><small>No chunks to plot.</small></p>\n";
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (ChunkValue c : all) {
      for (double v :
          new double[] {
            value.applyAsDouble(c), second == null ? Double.NaN : second.applyAsDouble(c)
          }) {
        if (Double.isFinite(v)) {
          min = Math.min(min, v);
          max = Math.max(max, v);
        }
      }
    }
    for (double v : new double[] {lower, upper}) {
      if (Double.isFinite(v)) {
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    if (!Double.isFinite(min)) {
      return "<p><small>No values to plot.</small></p>\n";
    }
    if (max - min < 1e-12) {
      max = min + 1;
    }
    double pad = (max - min) * 0.08;
    double lo = min - pad;
    double hi = max + pad;
    int width = 900;
    int height = 200;
    int left = 60;
    int top = 10;
    int bottom = 70;
    double step = all.size() == 1 ? 0 : (double) (width - left - 20) / (all.size() - 1);
    java.util.function.DoubleUnaryOperator y = v -> top + (hi - v) / (hi - lo) * height;
    java.util.function.IntToDoubleFunction x =
        i -> all.size() == 1 ? left + (width - left) / 2.0 : left + i * step;
    StringBuilder svg = new StringBuilder();
    svg.append("<svg width=\"")
        .append(width)
        .append("\" height=\"")
        .append(height + top + bottom)
        .append("\" role=\"img\" aria-label=\"")
        .append(escape(axis))
        .append(" per chunk\" font-size=\"10\">");
    svg.append(
        String.format(
            Locale.ROOT,
            "<text x=\"4\" y=\"%.1f\">%s</text><text x=\"4\" y=\"%.1f\">%s</text>",
            y.applyAsDouble(hi) + 10,
            escape(number(hi)),
            y.applyAsDouble(lo),
            escape(number(lo))));
    for (double band : new double[] {lower, upper}) {
      if (Double.isFinite(band)) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#b00020\" stroke-dasharray=\"5,4\"/>",
                left,
                y.applyAsDouble(band),
                width - 10,
                y.applyAsDouble(band)));
      }
    }
    for (int series = 0; series < (second == null ? 1 : 2); series++) {
      java.util.function.ToDoubleFunction<ChunkValue> f = series == 0 ? value : second;
      for (int i = 1; i < all.size(); i++) {
        double a = f.applyAsDouble(all.get(i - 1));
        double b = f.applyAsDouble(all.get(i));
        if (Double.isFinite(a) && Double.isFinite(b)) {
          svg.append(
              String.format(
                  Locale.ROOT,
                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>",
                  x.applyAsDouble(i - 1),
                  y.applyAsDouble(a),
                  x.applyAsDouble(i),
                  y.applyAsDouble(b),
                  i < reference.size() ? REFERENCE_COLOUR : CURRENT_COLOUR,
                  series == 1 ? " stroke-dasharray=\"2,3\"" : ""));
        }
      }
    }
    for (int i = 0; i < all.size(); i++) {
      ChunkValue c = all.get(i);
      double v = value.applyAsDouble(c);
      if (Double.isFinite(v)) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%s\" fill=\"%s\"><title>%s: %s (%d rows)%s</title></circle>",
                x.applyAsDouble(i),
                y.applyAsDouble(v),
                c.alert() ? "5" : "3",
                c.alert() ? "#b00020" : i < reference.size() ? REFERENCE_COLOUR : CURRENT_COLOUR,
                (i < reference.size() ? "reference " : "current ") + escape(c.chunk()),
                escape(number(v)),
                c.rows(),
                c.alert() ? ", alert" : ""));
      }
      if (all.size() <= 40 || i % Math.ceil(all.size() / 40.0) == 0) {
        svg.append(
            String.format(
                Locale.ROOT,
                "<text transform=\"translate(%.1f,%d) rotate(45)\">%s</text>",
                x.applyAsDouble(i),
                top + height + 12,
                escape(c.chunk())));
      }
    }
    svg.append("</svg>\n");
    return svg.toString();
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
