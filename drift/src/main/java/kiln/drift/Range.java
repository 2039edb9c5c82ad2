package kiln.drift;

import kiln.core.Errors;

/**
 * The valid range of a numeric column, for its out-of-range rate; either end may be open (null).
 */
public record Range(Double min, Double max) {
  public Range {
    if (min != null && max != null && min > max) {
      throw Errors.badInput(
          "range min " + min + " is above max " + max + "; swap them",
          "correct the drift config (--config) or the options that set it");
    }
    if ((min != null && min.isNaN()) || (max != null && max.isNaN())) {
      throw Errors.badInput(
          "a range bound is NaN; give a number or leave the bound out",
          "correct the drift config (--config) or the options that set it");
    }
  }
}
