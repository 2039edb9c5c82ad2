package kiln.drift.internal;

import java.util.stream.DoubleStream;

/** NannyML's StandardDeviationThreshold: the mean of the reference chunks &plusmn; 3 std. */
public final class Bands {
  private Bands() {}

  /**
   * {lower, upper}: mean &plusmn; 3 population standard deviations (numpy's nanmean and nanstd) of
   * the values, NaNs left out; both NaN when there is no value.
   */
  public static double[] meanPlusMinus3Std(DoubleStream values) {
    double[] v = values.filter(x -> !Double.isNaN(x)).toArray();
    if (v.length == 0) {
      return new double[] {Double.NaN, Double.NaN};
    }
    double mean = 0;
    for (double x : v) {
      mean += x;
    }
    mean /= v.length;
    double squares = 0;
    for (double x : v) {
      squares += (x - mean) * (x - mean);
    }
    double std = Math.sqrt(squares / v.length);
    return new double[] {mean - 3 * std, mean + 3 * std};
  }
}
