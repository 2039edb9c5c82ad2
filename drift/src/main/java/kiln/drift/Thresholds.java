package kiln.drift;

import kiln.core.Errors;

/**
 * When a column counts as drifted, and when the dataset does. A column drifts when any enabled rule
 * fires; unset values take the defaults below, and the optional rules are off unless given.
 *
 * <ul>
 *   <li>{@code psi} 0.2: the usual credit-scoring rule of thumb (below 0.1 stable, 0.1-0.2
 *       moderate, above 0.2 significant shift; Siddiqi, Credit Risk Scorecards, 2006; Yurdakul
 *       2018);
 *   <li>{@code pValue} 0.05: the conventional significance level for the KS (numeric) and
 *       chi-squared (categorical) tests, corrected by {@code correction} (default none) across the
 *       tested columns. On large samples tests flag tiny shifts: raise the level, correct it, or
 *       leave KS and CHI_SQUARED out of {@code statistics};
 *   <li>{@code nullRate} 0.1: an absolute change of the null rate by more than 10 points;
 *   <li>{@code driftShare} 0.5: the dataset drifted when at least half of the features did (the
 *       default of Evidently's dataset drift preset), or when the prediction or label drifted;
 *   <li>{@code testsDecide} true: whether the p-value rule takes part in the verdict at all; false
 *       keeps the p-values in the output but lets the distances decide (sensible for very large
 *       samples);
 *   <li>{@code performance} 0.05: performance drift when the model's primary metric on labelled
 *       current data is worse than its test metric by more than 5% of the test value (a Kiln
 *       choice: a relative bound works for AUC and RMSE alike; tighten it for models whose errors
 *       are costly). Decided only with at least {@value #MIN_LABELLED_ROWS} labelled rows;
 *   <li>{@code domainClassifierAuc} 0.55: a chunk drifted when the domain classifier's
 *       cross-validated AUC is above it (statistic {@code domain_classifier}; Evidently's default
 *       for its classifier method);
 *   <li>optional, off by default: {@code wassersteinNormalised}, {@code jensenShannon}, {@code
 *       hellinger} (e.g. 0.1) and {@code outOfRange} (share of current values outside the range).
 * </ul>
 */
public record Thresholds(
    Double psi,
    Double pValue,
    Correction correction,
    Double nullRate,
    Double driftShare,
    Double wassersteinNormalised,
    Double jensenShannon,
    Double hellinger,
    Double outOfRange,
    Boolean testsDecide,
    Double performance,
    Double domainClassifierAuc) {

  public static final double DEFAULT_PSI = 0.2;
  public static final double DEFAULT_P_VALUE = 0.05;
  public static final double DEFAULT_NULL_RATE = 0.1;
  public static final double DEFAULT_DRIFT_SHARE = 0.5;
  public static final double DEFAULT_PERFORMANCE = 0.05;
  public static final double DEFAULT_DOMAIN_CLASSIFIER_AUC = 0.55;

  /** Fewer labelled current rows than this leave performance undecided (too noisy to call). */
  public static final int MIN_LABELLED_ROWS = 100;

  public Thresholds {
    psi = psi == null ? DEFAULT_PSI : psi;
    pValue = pValue == null ? DEFAULT_P_VALUE : pValue;
    correction = correction == null ? Correction.NONE : correction;
    nullRate = nullRate == null ? DEFAULT_NULL_RATE : nullRate;
    driftShare = driftShare == null ? DEFAULT_DRIFT_SHARE : driftShare;
    testsDecide = testsDecide == null ? Boolean.TRUE : testsDecide;
    performance = performance == null ? DEFAULT_PERFORMANCE : performance;
    domainClassifierAuc =
        domainClassifierAuc == null ? DEFAULT_DOMAIN_CLASSIFIER_AUC : domainClassifierAuc;
    if (!(domainClassifierAuc >= 0.5 && domainClassifierAuc < 1)) {
      throw Errors.badInput(
          "domainClassifierAuc must be at least 0.5 and below 1, got "
              + domainClassifierAuc
              + "; 0.5 is a classifier that cannot tell the sides apart",
          "correct the drift config (--config) or the options that set it");
    }
    positive("psi", psi);
    if (!(pValue > 0 && pValue < 1)) {
      throw Errors.badInput(
          "pValue must be between 0 and 1 (exclusive), got " + pValue + "; the usual level is 0.05",
          "correct the drift config (--config) or the options that set it");
    }
    between("nullRate", nullRate);
    if (!(driftShare > 0 && driftShare <= 1)) {
      throw Errors.badInput(
          "driftShare must be above 0 and at most 1, got "
              + driftShare
              + "; 0.5 means half of the features",
          "correct the drift config (--config) or the options that set it");
    }
    if (!(performance > 0 && performance < 1)) {
      throw Errors.badInput(
          "performance must be above 0 and below 1, got "
              + performance
              + "; 0.05 means a primary metric 5% worse than on the test split",
          "correct the drift config (--config) or the options that set it");
    }
    if (wassersteinNormalised != null) {
      positive("wassersteinNormalised", wassersteinNormalised);
    }
    if (jensenShannon != null) {
      between("jensenShannon", jensenShannon);
    }
    if (hellinger != null) {
      between("hellinger", hellinger);
    }
    if (outOfRange != null) {
      between("outOfRange", outOfRange);
    }
  }

  public static Thresholds defaults() {
    return new Thresholds(null, null, null, null, null, null, null, null, null, null, null, null);
  }

  private static void positive(String name, double value) {
    if (!(value > 0) || Double.isInfinite(value)) {
      throw Errors.badInput(
          name + " must be a positive number, got " + value,
          "correct the drift config (--config) or the options that set it");
    }
  }

  private static void between(String name, double value) {
    if (!(value >= 0 && value <= 1)) {
      throw Errors.badInput(
          name + " must be between 0 and 1, got " + value,
          "correct the drift config (--config) or the options that set it");
    }
  }
}
