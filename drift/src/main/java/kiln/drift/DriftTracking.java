package kiln.drift;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import kiln.core.tracking.TrackedRun;

/**
 * Reports a drift result to an MLflow run: metrics {@code drift.<column>.<statistic>} (finite
 * values only, as MLflow stores them), verdicts as tags, both dataset versions as inputs, the
 * report as an artifact.
 */
public final class DriftTracking {
  public static final String REPORT_ARTIFACT = "drift/report.html";

  private DriftTracking() {}

  /** Logs everything; {@code report} may be null when no HTML report was made. */
  public static void report(TrackedRun run, DriftResult result, Path report) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("drift.reference", result.reference().dataset().toString());
    params.put("drift.current", result.current().dataset().toString());
    if (result.reference().where() != null) {
      params.put("drift.reference_filter", result.reference().where());
    }
    if (result.current().where() != null) {
      params.put("drift.current_filter", result.current().where());
    }
    Thresholds t = result.thresholds();
    params.put("drift.threshold.psi", String.valueOf(t.psi()));
    params.put("drift.threshold.p_value", String.valueOf(t.pValue()));
    params.put("drift.threshold.correction", t.correction().toString().toLowerCase(Locale.ROOT));
    params.put("drift.threshold.drift_share", String.valueOf(t.driftShare()));
    run.logParams(params);

    Map<String, Double> metrics = new LinkedHashMap<>();
    for (FeatureDrift f : result.features()) {
      String prefix = "drift." + metricName(f.name()) + ".";
      f.statistics()
          .forEach(
              (statistic, value) -> {
                if (value != null && Double.isFinite(value)) {
                  metrics.put(prefix + statistic, value);
                }
              });
      metrics.put(prefix + "drifted", f.drifted() ? 1.0 : 0.0);
    }
    metrics.put("drift.dataset.drifted_share", result.driftedShare());
    metrics.put("drift.dataset.drifted", result.drifted() ? 1.0 : 0.0);
    metrics.put("drift.dataset.reference_rows", (double) result.referenceRows());
    metrics.put("drift.dataset.current_rows", (double) result.currentRows());
    MultivariateDrift m = result.multivariate();
    if (m != null) {
      metrics.put("drift.multivariate.alerts", (double) m.alerts());
      metrics.put("drift.multivariate.upper", m.upper());
      m.current().stream()
          .mapToDouble(ChunkValue::value)
          .max()
          .ifPresent(v -> metrics.put("drift.multivariate.max_error", v));
    }
    DomainClassifierDrift d = result.domainClassifier();
    if (d != null) {
      metrics.put("drift.domain_classifier.alerts", (double) d.alerts());
      d.current().stream()
          .mapToDouble(ChunkValue::value)
          .max()
          .ifPresent(v -> metrics.put("drift.domain_classifier.max_auc", v));
    }
    for (PerformanceEstimate e : result.estimated()) {
      String prefix = "drift.estimated." + metricName(e.metric()) + ".";
      metrics.put(
          prefix + "alerts", (double) e.current().stream().filter(ChunkValue::alert).count());
      e.current().stream()
          .mapToDouble(ChunkValue::value)
          .filter(Double::isFinite)
          .min()
          .ifPresent(v -> metrics.put(prefix + "min", v));
    }
    if (!result.chunks().isEmpty()) {
      metrics.put(
          "drift.chunks.drifted",
          (double) result.chunks().stream().filter(ChunkDrift::drifted).count());
      metrics.put("drift.chunks.count", (double) result.chunks().size());
    }
    run.logMetrics(metrics);

    Map<String, String> tags = new LinkedHashMap<>();
    tags.put("drift.verdict", result.drifted() ? "drifted" : "stable");
    tags.put("drift.summary", result.summary());
    if (result.chunking() != null) {
      tags.put("drift.chunking", result.chunking());
    }
    for (FeatureDrift f : result.features()) {
      tags.put(
          "drift." + metricName(f.name()) + ".verdict",
          f.verdict().toString().toLowerCase(Locale.ROOT));
    }
    run.setTags(tags);
    run.logInput(result.reference().dataset(), "reference");
    run.logInput(result.current().dataset(), "current");
    if (report != null) {
      run.logArtifact(report, REPORT_ARTIFACT);
    }
  }

  /** MLflow keys allow letters, digits, _ - . / and spaces; anything else becomes _. */
  static String metricName(String column) {
    return column.replaceAll("[^A-Za-z0-9_\\-./ ]", "_");
  }
}
