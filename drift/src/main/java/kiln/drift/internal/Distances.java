package kiln.drift.internal;

/** Distances between two discrete distributions given as shares over the same bins. */
public final class Distances {
  /**
   * Shares below this are raised to it in PSI (an empty bin would make it infinite). 1e-4: one row
   * in ten thousand, small against any bin a 10-bin PSI uses, as common practice does.
   */
  public static final double PSI_EPSILON = 1e-4;

  private Distances() {}

  /**
   * Population Stability Index: sum (c - r) ln(c / r), both shares floored at {@link #PSI_EPSILON}.
   */
  public static double psi(double[] reference, double[] current) {
    double sum = 0;
    for (int i = 0; i < reference.length; i++) {
      double r = Math.max(reference[i], PSI_EPSILON);
      double c = Math.max(current[i], PSI_EPSILON);
      sum += (c - r) * Math.log(c / r);
    }
    return sum;
  }

  /** Jensen-Shannon distance in base 2 (the square root of the divergence), between 0 and 1. */
  public static double jensenShannon(double[] p, double[] q) {
    double sp = sum(p);
    double sq = sum(q);
    double divergence = 0;
    for (int i = 0; i < p.length; i++) {
      double a = p[i] / sp;
      double b = q[i] / sq;
      double m = (a + b) / 2;
      if (a > 0) {
        divergence += a * Math.log(a / m);
      }
      if (b > 0) {
        divergence += b * Math.log(b / m);
      }
    }
    return Math.sqrt(Math.max(0, divergence / 2 / Math.log(2)));
  }

  /** Hellinger distance sqrt(1 - sum sqrt(p q)), between 0 and 1. */
  public static double hellinger(double[] p, double[] q) {
    double bhattacharyya = 0;
    for (int i = 0; i < p.length; i++) {
      bhattacharyya += Math.sqrt(p[i] * q[i]);
    }
    return Math.sqrt(Math.max(0, 1 - bhattacharyya));
  }

  private static double sum(double[] values) {
    double s = 0;
    for (double v : values) {
      s += v;
    }
    return s;
  }
}
