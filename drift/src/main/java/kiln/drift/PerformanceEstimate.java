package kiln.drift;

import java.util.List;
import java.util.Objects;

/**
 * A model's performance estimated without labels, per chunk: a binary classifier's by NannyML's
 * CBPE ({@link Cbpe}), a regressor's by direct loss estimation ({@link Dle}).
 *
 * @param metric {@code roc_auc}, {@code accuracy}, {@code precision}, {@code recall} or {@code f1}
 *     (CBPE); {@code mae}, {@code mape}, {@code mse}, {@code rmse}, {@code msle} or {@code rmsle}
 *     (DLE)
 * @param lower the band's lower end: the reference chunks' realized metric, mean - 3 std (at least
 *     0)
 * @param upper mean + 3 std (at most 1 for CBPE's metrics)
 * @param reference the reference chunks: estimated value and realized value
 * @param current the current chunks: estimated value, realized value where labels exist (else NaN),
 *     alert when the estimate left the band
 */
public record PerformanceEstimate(
    String metric,
    double lower,
    double upper,
    List<ChunkValue> reference,
    List<ChunkValue> current) {
  public PerformanceEstimate {
    Objects.requireNonNull(metric, "metric is null");
    reference = List.copyOf(Objects.requireNonNull(reference, "reference is null"));
    current = List.copyOf(Objects.requireNonNull(current, "current is null"));
  }

  /** {@code "DLE"} for a regression metric, else {@code "CBPE"}. */
  public String method() {
    return Dle.METRICS.contains(metric) ? "DLE" : "CBPE";
  }

  public boolean alerted() {
    return current.stream().anyMatch(ChunkValue::alert);
  }
}
