package kiln.drift;

/**
 * The drift statistics Kiln computes from profiles. Which ones run is configurable; they all read
 * the same profiles, so the choice does not change the cost of the scan.
 */
public enum Statistic {
  /**
   * Population Stability Index over reference-quantile bins (numeric) or categories (categorical).
   */
  PSI,
  /** Two-sample Kolmogorov-Smirnov statistic and p-value (numeric). */
  KS,
  /** Wasserstein-1 distance, raw and divided by the reference standard deviation (numeric). */
  WASSERSTEIN,
  /** Jensen-Shannon distance, base 2 (0 to 1), over the same bins or categories as PSI. */
  JENSEN_SHANNON,
  /** Hellinger distance (0 to 1), over the same bins or categories as PSI. */
  HELLINGER,
  /** Chi-squared test of homogeneity on the 2 x categories table (categorical). */
  CHI_SQUARED,
  /**
   * Multivariate drift: the PCA reconstruction error of the numeric features (NannyML's data
   * reconstruction), per chunk against the band of the reference's chunks. Unlike the others it
   * reads the rows again (the PCA is fitted on the reference), so it runs only when asked for.
   */
  RECONSTRUCTION_ERROR,
  /**
   * Multivariate drift: the cross-validated ROC AUC of a classifier trained to tell reference rows
   * from the current chunk's rows (numeric and categorical features), drifted above thresholds'
   * {@code domainClassifierAuc} (0.55). Trains a model per fold and chunk, so it runs only when the
   * config lists it (per chunk with {@code --chunk}).
   */
  DOMAIN_CLASSIFIER;

  /**
   * The default: every statistic read from the profiles. Multivariate drift is asked for (config
   * {@code statistics}, or {@code --chunk}) because it reads both sides again.
   */
  public static final java.util.List<Statistic> PER_COLUMN =
      java.util.List.of(PSI, KS, WASSERSTEIN, JENSEN_SHANNON, HELLINGER, CHI_SQUARED);
}
