package kiln.drift;

/** The valid range of a numeric column, for its out-of-range rate; either end may be open (null). */
public record Range(Double min, Double max) {
  public Range {
    if (min != null && max != null && min > max) {
      throw new IllegalArgumentException("range min " + min + " is above max " + max + "; swap them");
    }
    if ((min != null && min.isNaN()) || (max != null && max.isNaN())) {
      throw new IllegalArgumentException("a range bound is NaN; give a number or leave the bound out");
    }
  }
}
