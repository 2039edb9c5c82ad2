package kiln.drift;

import java.util.List;
import java.util.Objects;
import kiln.core.Errors;

/**
 * What performance estimation without labels needs: for a binary classifier CBPE (its scores
 * calibrated on the labelled reference), for a regressor direct loss estimation (DLE, a model of
 * each row's loss fitted on the labelled reference).
 *
 * @param score the column with the probability of class 1 (classifier) or the predicted value
 *     (regressor), on both sides
 * @param label the label column of the reference (the calibration set); on the current side it is
 *     used only where present, for the realized metric beside the estimate
 * @param threshold the score at or above which the classifier predicts class 1 (NaN for a
 *     regressor)
 * @param regression true for a regressor (DLE), false for a binary classifier (CBPE)
 * @param metrics the metrics to report, or null for the method's default ({@link Cbpe#METRICS},
 *     {@link Dle#METRICS})
 */
public record Estimation(
    String score, String label, double threshold, boolean regression, List<String> metrics) {
  public Estimation {
    Objects.requireNonNull(score, "score is null");
    Objects.requireNonNull(label, "label is null");
    if (!regression && !(threshold > 0 && threshold < 1)) {
      throw Errors.badInput(
          "the classification threshold must be between 0 and 1, got " + threshold,
          "give a threshold strictly between 0 and 1 (0.5 is the default)");
    }
    metrics = metrics == null ? null : List.copyOf(metrics);
    if (metrics != null) {
      List<String> known = regression ? Dle.METRICS : Cbpe.METRICS;
      for (String m : metrics) {
        if (!known.contains(m)) {
          boolean other = (regression ? Cbpe.METRICS : Dle.METRICS).contains(m);
          throw Errors.badInput(
              (other
                      ? (regression
                          ? "'" + m + "' is a classification metric, asked of a regressor"
                          : "'" + m + "' is a regression metric, asked of a classifier")
                      : "'" + m + "' is not a metric performance estimation knows")
                  + "; a "
                  + (regression ? "regressor's (DLE)" : "classifier's (CBPE)")
                  + " estimated metrics are "
                  + String.join(", ", known),
              "ask for some of " + String.join(", ", known) + ", or leave the metrics out");
        }
      }
      if (metrics.isEmpty()) {
        throw Errors.badInput(
            "no metric to estimate", "ask for some of " + String.join(", ", known(regression)));
      }
    }
  }

  /** A binary classifier's CBPE with every metric. */
  public Estimation(String score, String label, double threshold) {
    this(score, label, threshold, false, null);
  }

  /** A regressor's direct loss estimation; metrics null for all that fit the data. */
  public static Estimation regressor(String prediction, String label, List<String> metrics) {
    return new Estimation(prediction, label, Double.NaN, true, metrics);
  }

  private static List<String> known(boolean regression) {
    return regression ? Dle.METRICS : Cbpe.METRICS;
  }
}
