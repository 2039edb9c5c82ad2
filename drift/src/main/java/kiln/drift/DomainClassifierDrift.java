package kiln.drift;

import java.util.List;
import java.util.Objects;

/**
 * Multivariate drift as a domain classifier (NannyML's DomainClassifierCalculator, Evidently's
 * "model" drift method): per current chunk, a classifier is trained to tell reference rows from the
 * chunk's rows, and its cross-validated ROC AUC is the chunk's value. About 0.5 when the two cannot
 * be told apart; towards 1 when they can, whatever moved (one column, a correlation, a category's
 * share). A chunk drifted when its AUC is above {@code threshold}.
 *
 * @param numeric the numeric features (nulls filled with the reference mean, plus a null indicator)
 * @param categorical the categorical features (indexed by frequency over both sides)
 * @param folds the cross-validation folds (stratified by side)
 * @param maxRowsPerSide at most this many rows of each side train a chunk's classifier (a seeded
 *     sample above it): bounds the cost; NannyML uses every row
 * @param threshold the AUC above which a chunk drifted (thresholds' {@code domainClassifierAuc})
 * @param current the current chunks' AUCs, alerts set
 */
public record DomainClassifierDrift(
    List<String> numeric,
    List<String> categorical,
    int folds,
    long maxRowsPerSide,
    double threshold,
    List<ChunkValue> current) {
  public static final int DEFAULT_FOLDS = 5;
  public static final long DEFAULT_MAX_ROWS_PER_SIDE = 10_000;

  public DomainClassifierDrift {
    numeric = List.copyOf(Objects.requireNonNull(numeric, "numeric is null"));
    categorical = List.copyOf(Objects.requireNonNull(categorical, "categorical is null"));
    current = List.copyOf(Objects.requireNonNull(current, "current is null"));
  }

  /** True when any current chunk's AUC is above the threshold. */
  public boolean drifted() {
    return current.stream().anyMatch(ChunkValue::alert);
  }

  public long alerts() {
    return current.stream().filter(ChunkValue::alert).count();
  }
}
