package kiln.drift.internal;

import org.apache.commons.math3.stat.inference.KolmogorovSmirnovTest;

/** The two-sample Kolmogorov-Smirnov test on step distributions. */
public final class KolmogorovSmirnov {
  /** Largest sample for which the p-value is exact, as scipy's {@code ks_2samp(method='auto')}. */
  public static final long EXACT_LIMIT = 10_000;

  private KolmogorovSmirnov() {}

  /**
   * @param statistic sup |F_reference - F_current|
   * @param numerator when both sides are exact counts: the statistic times n1*n2, a whole number
   */
  public record Result(double statistic, long numerator, double pValue, boolean exactPValue) {}

  public static Result test(StepDistribution reference, StepDistribution current) {
    double[] a = reference.values();
    double[] b = current.values();
    double n1 = reference.total();
    double n2 = current.total();
    boolean exact = reference.exact() && current.exact();
    double best = 0;
    long bestNumerator = 0;
    int i = 0;
    int j = 0;
    while (i < a.length || j < b.length) {
      double x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
      while (i < a.length && a[i] <= x) {
        i++;
      }
      while (j < b.length && b[j] <= x) {
        j++;
      }
      double wa = reference.weightAtOrBelow(x);
      double wb = current.weightAtOrBelow(x);
      double d = Math.abs(wa / n1 - wb / n2);
      if (d > best) {
        best = d;
      }
      if (exact) {
        long numerator = Math.abs((long) wa * (long) n2 - (long) wb * (long) n1);
        bestNumerator = Math.max(bestNumerator, numerator);
      }
    }
    long m = (long) n1;
    long n = (long) n2;
    if (exact && Math.max(m, n) <= EXACT_LIMIT) {
      return new Result(best, bestNumerator, exactPValue(m, n, bestNumerator), true);
    }
    return new Result(best, exact ? bestNumerator : -1, asymptoticPValue(best, n1, n2), false);
  }

  /**
   * P(D >= h / (m n)) for samples of sizes m and n without ties, counted over lattice paths: the
   * probability that a random path from (0,0) to (m,n) stays strictly inside |i n - j m| < h, as a
   * walk that draws without replacement (probabilities, so nothing overflows).
   */
  public static double exactPValue(long m, long n, long h) {
    if (h <= 0) {
      return 1.0;
    }
    int cols = (int) n;
    double total = m + n;
    double[] previous = new double[cols + 1];
    double[] next = new double[cols + 1];
    int previousLow = 0;
    int previousHigh = -1;
    for (long i = 0; i <= m; i++) {
      int low = (int) Math.max(0, Math.floorDiv(i * n - h, m) + 1);
      int high = (int) Math.min(n, ceilDiv(i * n + h, m) - 1);
      if (low > high) {
        return 1.0;
      }
      for (int j = low; j <= high; j++) {
        double value = i == 0 && j == 0 ? 1.0 : 0.0;
        if (i > 0 && j >= previousLow && j <= previousHigh) {
          value += previous[j] * (m - i + 1) / (total - (i - 1) - j);
        }
        if (j > low) {
          value += next[j - 1] * (n - j + 1) / (total - i - (j - 1));
        }
        next[j] = value;
      }
      for (int j = previousLow; j <= previousHigh; j++) {
        previous[j] = 0;
      }
      double[] swap = previous;
      previous = next;
      next = swap;
      previousLow = low;
      previousHigh = high;
    }
    double inside = cols >= previousLow && cols <= previousHigh ? previous[cols] : 0;
    return Math.min(1.0, Math.max(0.0, 1.0 - inside));
  }

  /**
   * Smirnov's large-sample p-value as scipy computes it: the one-sample Kolmogorov distribution
   * with n = round(n1 n2 / (n1 + n2)) (commons-math's Durbin / Pelz-Good evaluation of it).
   */
  public static double asymptoticPValue(double d, double n1, double n2) {
    double en = Math.rint(n1 * n2 / (n1 + n2));
    if (d <= 0) {
      return 1.0;
    }
    if (en > Integer.MAX_VALUE || en * d * d > 400) {
      return 0.0;
    }
    double cdf = new KolmogorovSmirnovTest().cdf(d, (int) Math.max(1, en));
    return Math.min(1.0, Math.max(0.0, 1.0 - cdf));
  }

  private static long ceilDiv(long x, long y) {
    return -Math.floorDiv(-x, y);
  }
}
