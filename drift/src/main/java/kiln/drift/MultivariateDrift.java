package kiln.drift;

import java.util.List;
import java.util.Objects;

/**
 * Multivariate drift as NannyML's data reconstruction: numeric features are mean-imputed,
 * categorical ones imputed with their mode and encoded as each category's share of the reference
 * rows (NannyML's CountEncoder; an unseen category is 0), all standardised on the reference; a PCA
 * fitted on the reference keeps the fewest components that explain more than {@code varianceKept}
 * of the variance, and each row's error is the Euclidean distance between it and its reconstruction
 * from those components. A chunk's value is its rows' mean error; the band is the reference chunks'
 * mean &plusmn; 3 standard deviations (the lower end at least 0). Joint shifts that leave every
 * column's distribution alone (a broken correlation) show here and nowhere else.
 *
 * @param columns the features in the PCA (numeric, then categorical)
 * @param components the principal components kept
 * @param varianceKept the share of variance asked for (NannyML's 0.65)
 * @param varianceExplained the share the kept components explain
 * @param lower the band's lower end
 * @param upper the band's upper end
 * @param reference the reference chunks' values (the band's source)
 * @param current the current chunks' values, alerts set
 */
public record MultivariateDrift(
    List<String> columns,
    int components,
    double varianceKept,
    double varianceExplained,
    double lower,
    double upper,
    List<ChunkValue> reference,
    List<ChunkValue> current) {
  public static final double DEFAULT_VARIANCE_KEPT = 0.65;

  public MultivariateDrift {
    columns = List.copyOf(columns);
    reference = List.copyOf(Objects.requireNonNull(reference, "reference is null"));
    current = List.copyOf(Objects.requireNonNull(current, "current is null"));
  }

  /** True when any current chunk left the band. */
  public boolean drifted() {
    return current.stream().anyMatch(ChunkValue::alert);
  }

  public long alerts() {
    return current.stream().filter(ChunkValue::alert).count();
  }
}
