package kiln.training;

import java.time.Duration;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.models.ModelFiles;

/**
 * A trained and evaluated model, saved on local disk.
 *
 * @param validationMetrics metrics on the validation split (what tuning compares; the test split
 *     stays unseen)
 * @param latencyMillisPer1000Rows time per 1000 rows of the one pass that scores the validation and
 *     test rows and computes their metrics (so at least the scoring time)
 * @param featureImportance gain per feature column
 * @param bestIteration the boosting round early stopping kept
 */
public record TrainingResult(
    ModelFiles model,
    DatasetRef features,
    Evaluation.Result evaluation,
    Map<String, Double> validationMetrics,
    double latencyMillisPer1000Rows,
    Map<String, Double> featureImportance,
    int bestIteration,
    String device,
    long trainRows,
    long validationRows,
    long testRows,
    String sha256,
    String codeVersion,
    Duration elapsed) {

  /** Every number a run logs: the test metrics, gaps, latency, sizes. */
  public Map<String, Double> metrics() {
    Map<String, Double> all = new java.util.LinkedHashMap<>();
    evaluation.metrics().forEach((k, v) -> all.put("test_" + k, v));
    evaluation.gaps().forEach((group, gap) -> all.put("group_gap_" + group, gap));
    all.put("largest_group_gap", evaluation.largestGap());
    all.put("latency_ms_per_1000_rows", latencyMillisPer1000Rows);
    all.put("best_iteration", (double) bestIteration);
    all.put("train_rows", (double) trainRows);
    all.put("validation_rows", (double) validationRows);
    all.put("test_rows", (double) testRows);
    all.put(kiln.core.tracking.TrackedRun.ELAPSED_SECONDS, elapsed.toMillis() / 1000.0);
    return all;
  }
}
