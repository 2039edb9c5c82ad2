package kiln.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

/**
 * The agreement of every statistic a peer (Evidently, NannyML) shares with Kiln, read from the
 * result files each side writes ({@code python/TOOL/bench_drift.py} and Kiln's side of {@link
 * DriftPeersBenchmark}): one row per statistic and column with both values and their difference.
 *
 * <p>Result file shape (all three sides): {@code {"tool": ..., "seconds": {"load": s, "compute": s,
 * ...}, "peak_rss_bytes": n, "statistics": {COLUMN: {NAME: value}}, "cbpe": {"roc_auc": v,
 * "accuracy": v}}}; Kiln's statistics carry Kiln's metric names ({@code ks_statistic}, ...), the
 * peers' their own method names.
 */
public final class PeerAgreement {
  private static final ObjectMapper JSON = new ObjectMapper();

  /**
   * A statistic both compute: the peer's name, Kiln's name, the conversion of the peer's value to
   * Kiln's scale, and how the definitions differ (empty when they are the same).
   */
  record Shared(
      String peer, String peerName, String kilnName, DoubleUnaryOperator toKiln, String note) {
    Shared {
      Objects.requireNonNull(peer, "peer is null");
      Objects.requireNonNull(peerName, "peerName is null");
      Objects.requireNonNull(kilnName, "kilnName is null");
      Objects.requireNonNull(toKiln, "toKiln is null");
      Objects.requireNonNull(note, "note is null");
    }
  }

  /** One compared value; {@code peerValue} NaN when the peer did not report it. */
  public record Row(
      String peer,
      String statistic,
      String column,
      double kilnValue,
      double peerValue,
      String note) {
    public double difference() {
      return Math.abs(kilnValue - peerValue);
    }
  }

  private static final double LN2_ROOT = Math.sqrt(Math.log(2));

  /** What is shared, and how each pair is defined (see BENCHMARKS.md). */
  static final List<Shared> SHARED =
      List.of(
          new Shared(
              "evidently",
              "Wasserstein distance (normed)",
              "wasserstein_normalised",
              v -> v,
              "same definition (divided by the reference's std)"),
          // scipy's jensenshannon without base: natural log, at most sqrt(ln 2); Kiln's is base 2
          new Shared(
              "evidently",
              "jensenshannon",
              "jensen_shannon",
              v -> v / LN2_ROOT,
              "Evidently's is natural-log (divided by sqrt(ln 2) here); numeric columns binned"
                  + " differently (Evidently: equal-width over both sides)"),
          new Shared(
              "evidently", "ks", "ks_p_value", v -> v, "p-value (scipy's ks_2samp on the rows)"),
          new Shared(
              "evidently",
              "chisquare",
              "chi_squared_p_value",
              v -> v,
              "p-value; Evidently leaves out categories absent from the reference"),
          new Shared(
              "evidently",
              "psi",
              "psi",
              v -> v,
              "numeric bins differ (Evidently: equal-width over both sides; Kiln: reference"
                  + " deciles); categories the same, but Evidently puts a tiny share in for an"
                  + " empty one, so categories seen on one side only weigh differently"),
          new Shared(
              "evidently",
              "hellinger",
              "hellinger",
              v -> v,
              "numeric bins differ (Evidently: equal-width over both sides; Kiln: reference"
                  + " deciles)"),
          new Shared(
              "nannyml",
              "kolmogorov_smirnov",
              "ks_statistic",
              v -> v,
              "NannyML above 10,000 reference rows: ECDF on 10,000 reference-quantile bins; Kiln:"
                  + " KLL sketches or exact counts"),
          new Shared(
              "nannyml",
              "wasserstein",
              "wasserstein",
              v -> v,
              "NannyML above 10,000 reference rows: histogram with 10,000 bins"),
          new Shared(
              "nannyml",
              "jensen_shannon",
              "jensen_shannon",
              v -> v,
              "numeric bins differ (NannyML: Doane's rule on the reference; Kiln: reference"
                  + " deciles); categories the same"),
          new Shared(
              "nannyml",
              "hellinger",
              "hellinger",
              v -> v,
              "numeric bins differ (NannyML: Doane's rule on the reference; Kiln: reference"
                  + " deciles); categories the same"),
          new Shared("nannyml", "chi2", "chi_squared", v -> v, "chi-squared statistic"));

  private PeerAgreement() {}

  public static JsonNode read(Path file) {
    try {
      return JSON.readTree(Files.readString(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the result file " + file, e);
    }
  }

  public static JsonNode parse(String json) {
    try {
      return JSON.readTree(json);
    } catch (IOException e) {
      throw new UncheckedIOException("not a result JSON: " + json, e);
    }
  }

  /**
   * Every statistic of the peer's result that Kiln also computed, column by column, then CBPE's
   * estimates (NannyML); a shared statistic the peer did not report comes with a NaN peer value.
   */
  public static List<Row> compare(JsonNode kiln, JsonNode peer) {
    String tool = peer.path("tool").asText();
    List<Row> rows = new ArrayList<>();
    JsonNode kilnStatistics = kiln.path("statistics");
    for (Shared shared : SHARED) {
      if (!shared.peer().equals(tool)) {
        continue;
      }
      for (Iterator<String> columns = kilnStatistics.fieldNames(); columns.hasNext(); ) {
        String column = columns.next();
        JsonNode kilnValue = kilnStatistics.path(column).get(shared.kilnName());
        if (kilnValue == null || !kilnValue.isNumber()) {
          continue; // Kiln does not compute it for this column's kind
        }
        JsonNode peerValue = peer.path("statistics").path(column).get(shared.peerName());
        if (peerValue == null && !reported(peer, shared.peerName())) {
          continue; // the peer did not run this method at all
        }
        rows.add(
            new Row(
                tool,
                shared.kilnName()
                    + (shared.kilnName().equals(shared.peerName())
                        ? ""
                        : " / " + shared.peerName()),
                column,
                kilnValue.asDouble(),
                peerValue == null || !peerValue.isNumber()
                    ? Double.NaN
                    : shared.toKiln().applyAsDouble(peerValue.asDouble()),
                shared.note()));
      }
    }
    for (String metric : List.of("roc_auc", "accuracy", "precision", "recall", "f1")) {
      JsonNode peerValue = peer.path("cbpe").get(metric);
      JsonNode kilnValue = kiln.path("cbpe").get(metric);
      if (peerValue != null && kilnValue != null) {
        rows.add(
            new Row(
                tool,
                "cbpe " + metric,
                "score",
                kilnValue.asDouble(),
                peerValue.asDouble(),
                "estimated on the whole current side, calibrated on the whole reference"));
      }
    }
    return rows;
  }

  /** Whether some column of the peer's result has the method. */
  private static boolean reported(JsonNode peer, String method) {
    for (JsonNode column : peer.path("statistics")) {
      if (column.has(method)) {
        return true;
      }
    }
    return false;
  }

  /** A markdown table of the rows. */
  public static String markdown(List<Row> rows) {
    StringBuilder text =
        new StringBuilder(
            "| peer | statistic (Kiln / peer) | column | Kiln | peer | abs. difference | definitions |\n"
                + "|---|---|---|---|---|---|---|\n");
    for (Row row : rows) {
      text.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %s | %s | %s | %s | %s |%n",
              row.peer(),
              row.statistic(),
              row.column(),
              number(row.kilnValue()),
              Double.isNaN(row.peerValue()) ? "not reported" : number(row.peerValue()),
              Double.isNaN(row.peerValue()) ? "" : number(row.difference()),
              row.note()));
    }
    return text.toString();
  }

  static String number(double value) {
    if (value != 0 && Math.abs(value) < 1e-4) {
      return String.format(Locale.ROOT, "%.3g", value);
    }
    return String.format(Locale.ROOT, "%.5f", value);
  }
}
