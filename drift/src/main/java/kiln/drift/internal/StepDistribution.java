package kiln.drift.internal;

import java.util.Arrays;

/**
 * An empirical distribution as a right-continuous step function: sorted distinct values and their
 * weights. Exact when built from value counts; the KLL sketch's estimate when built from its items.
 */
public final class StepDistribution {
  private final double[] values;
  private final double[] cumulative;
  private final double total;
  private final boolean exact;

  private StepDistribution(double[] values, double[] cumulative, double total, boolean exact) {
    this.values = values;
    this.cumulative = cumulative;
    this.total = total;
    this.exact = exact;
  }

  /** {@code values} ascending (duplicates allowed, they are combined), {@code weights} positive. */
  static StepDistribution of(double[] values, double[] weights, boolean exact) {
    double[] distinct = new double[values.length];
    double[] cumulative = new double[values.length];
    int n = 0;
    double running = 0;
    for (int i = 0; i < values.length; i++) {
      running += weights[i];
      if (n > 0 && distinct[n - 1] == values[i]) {
        cumulative[n - 1] = running;
      } else {
        distinct[n] = values[i];
        cumulative[n] = running;
        n++;
      }
    }
    return new StepDistribution(
        Arrays.copyOf(distinct, n), Arrays.copyOf(cumulative, n), running, exact);
  }

  public boolean isEmpty() {
    return values.length == 0;
  }

  public boolean exact() {
    return exact;
  }

  public double total() {
    return total;
  }

  double[] values() {
    return values;
  }

  /** Weight of the values at or below {@code x}. */
  public double weightAtOrBelow(double x) {
    int index = Arrays.binarySearch(values, x);
    if (index >= 0) {
      return cumulative[index];
    }
    int insertion = -index - 1;
    return insertion == 0 ? 0 : cumulative[insertion - 1];
  }

  /** Weight of the values strictly below {@code x}. */
  public double weightBelow(double x) {
    int index = Arrays.binarySearch(values, x);
    int before = index >= 0 ? index : -index - 1;
    return before == 0 ? 0 : cumulative[before - 1];
  }

  /** P(X <= x). */
  public double cdf(double x) {
    return weightAtOrBelow(x) / total;
  }

  /**
   * The {@code k/parts} quantile by the inverted-CDF rule: the smallest value whose cumulative
   * weight reaches {@code k/parts} of the total (compared in whole numbers, so that exact cut
   * points are exact).
   */
  public double quantile(int k, int parts) {
    for (int i = 0; i < values.length; i++) {
      if (cumulative[i] * parts >= (double) k * total) {
        return values[i];
      }
    }
    return values[values.length - 1];
  }
}
