package kiln.core.models;

import kiln.core.Errors;

/** The shares of rows in train, validation and test; they add up to 1. */
public record SplitFractions(double train, double validation, double test) {
  public static final SplitFractions DEFAULT = new SplitFractions(0.7, 0.15, 0.15);

  public SplitFractions {
    if (train <= 0 || validation <= 0 || test <= 0) {
      throw Errors.badInput(
          "split fractions must all be above 0, got train "
              + train
              + ", validation "
              + validation
              + ", test "
              + test,
          "give split fractions above 0 that add up to 1, e.g. {train: 0.7, validation: 0.15, test: 0.15}");
    }
    if (Math.abs(train + validation + test - 1.0) > 1e-9) {
      throw Errors.badInput(
          "split fractions must add up to 1, got " + (train + validation + test),
          "give split fractions above 0 that add up to 1, e.g. {train: 0.7, validation: 0.15, test: 0.15}");
    }
  }

  /**
   * train/validation/test, e.g. {@code 0.7/0.15/0.15}: how commit metadata and parameters record
   * it.
   */
  public String describe() {
    return train + "/" + validation + "/" + test;
  }
}
