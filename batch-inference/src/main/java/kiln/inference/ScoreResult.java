package kiln.inference;

import java.time.Duration;
import java.util.Optional;
import kiln.core.DatasetRef;

/**
 * What a scoring run wrote and measured.
 *
 * @param errorRows rows the model gave no prediction for (null or NaN)
 * @param partitionMillisP50 median time of one partition's scoring-and-writing task
 */
public record ScoreResult(
    String model,
    String modelVersion,
    DatasetRef input,
    DatasetRef output,
    long rows,
    long errorRows,
    Duration elapsed,
    double partitionMillisP50,
    double partitionMillisP99,
    Optional<ShadowComparison> shadow) {

  /** Rows per second. */
  public double throughput() {
    return elapsed.isZero() ? 0 : rows / (elapsed.toNanos() / 1e9);
  }

  /**
   * How a shadow model compares with the one whose predictions were written.
   *
   * @param agreement share of rows with the same prediction
   * @param meanAbsoluteDifference mean absolute difference of the probabilities (of the predictions
   *     for regressors)
   */
  public record ShadowComparison(
      String model,
      String version,
      long rows,
      double agreement,
      double meanAbsoluteDifference,
      double medianAbsoluteDifference,
      double p90AbsoluteDifference,
      double p99AbsoluteDifference,
      double maxAbsoluteDifference) {}
}
