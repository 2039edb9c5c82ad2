package kiln.drift;

import java.util.Objects;
import kiln.core.Errors;

/**
 * What CBPE needs to estimate a binary classifier's performance without labels.
 *
 * @param score the column with the probability of class 1 (on both sides)
 * @param label the label column of the reference (the calibration set); on the current side it is
 *     used only where present, for the realized metric beside the estimate
 * @param threshold the score at or above which the classifier predicts class 1
 */
public record Estimation(String score, String label, double threshold) {
  public Estimation {
    Objects.requireNonNull(score, "score is null");
    Objects.requireNonNull(label, "label is null");
    if (!(threshold > 0 && threshold < 1)) {
      throw Errors.badInput(
          "the classification threshold must be between 0 and 1, got " + threshold,
          "give a threshold strictly between 0 and 1 (0.5 is the default)");
    }
  }
}
