package kiln.drift.internal;

/**
 * Intervals that hold the exact PSI, Jensen-Shannon, Hellinger and chi-squared values (same bins or
 * categories) when shares come from a sketch and are only known to lie in a box: for KLL bins each
 * share is within {@code 2 eps} of the exact one (a difference of two CDF values, each within the
 * rank error {@code eps}); for frequent items within the count error. Every per-bin term is jointly
 * convex, zero on the diagonal and grows with the separation of its two shares, so over the box its
 * maximum is at a corner and its minimum is 0 when the two share intervals overlap, else at the two
 * nearest corners. Summing per-bin extremes gives a conservative interval. drift/README.md ("Bounds
 * on sketched bins").
 */
final class BinnedBounds {
  /** Per-bin term of a statistic, as a function of the current and the reference share. */
  private interface Term {
    double of(double current, double reference);
  }

  private static final Term PSI = (c, r) -> (c - r) * Math.log(c / r);

  /** Twice the Jensen-Shannon divergence's term in nats: a ln(2a/(a+b)) + b ln(2b/(a+b)). */
  private static final Term JENSEN_SHANNON =
      (c, r) -> xLogX(c, (c + r) / 2) + xLogX(r, (c + r) / 2);

  /** Twice the squared Hellinger distance's term: (sqrt c - sqrt r)^2. */
  private static final Term HELLINGER =
      (c, r) -> {
        double d = Math.sqrt(c) - Math.sqrt(r);
        return d * d;
      };

  /** {@code low <= exact value <= high}. */
  record Interval(double low, double high) {}

  /**
   * Per bin, the range of each side's exact share: [referenceLow[i], referenceHigh[i]] and
   * [currentLow[i], currentHigh[i]], within [0, 1].
   */
  record Box(
      double[] referenceLow, double[] referenceHigh, double[] currentLow, double[] currentHigh) {
    /** Shares known within +/- an error per side (clamped to [0, 1]). */
    static Box around(
        double[] reference, double[] current, double referenceError, double currentError) {
      int n = reference.length;
      double[][] b = new double[4][n];
      for (int i = 0; i < n; i++) {
        b[0][i] = clamp(reference[i] - referenceError);
        b[1][i] = clamp(reference[i] + referenceError);
        b[2][i] = clamp(current[i] - currentError);
        b[3][i] = clamp(current[i] + currentError);
      }
      return new Box(b[0], b[1], b[2], b[3]);
    }
  }

  private BinnedBounds() {}

  static Interval psi(Box box) {
    return sum(PSI, box, Distances.PSI_EPSILON);
  }

  /** The Jensen-Shannon distance (base 2, the square root of the divergence). */
  static Interval jensenShannon(Box box) {
    Interval twice = sum(JENSEN_SHANNON, box, 0);
    double scale =
        2 * Math.log(2); // half the sum of terms is the divergence in nats; / ln 2 in bits
    return new Interval(
        Math.min(1, Math.sqrt(twice.low() / scale)), Math.min(1, Math.sqrt(twice.high() / scale)));
  }

  /**
   * The Hellinger distance sqrt(1/2 sum (sqrt p - sqrt q)^2), equal to sqrt(1 - sum sqrt(p q)) for
   * shares.
   */
  static Interval hellinger(Box box) {
    Interval twice = sum(HELLINGER, box, 0);
    return new Interval(
        Math.min(1, Math.sqrt(twice.low() / 2)), Math.min(1, Math.sqrt(twice.high() / 2)));
  }

  /**
   * Pearson's chi-squared statistic of the 2 x k table with row totals {@code referenceTotal} and
   * {@code currentTotal} (known exactly): n_r n_c sum (r - c)^2 / (n_r r + n_c c) over the shares r
   * and c.
   */
  static Interval chiSquared(Box box, double referenceTotal, double currentTotal) {
    Term term =
        (c, r) -> {
          double weight = referenceTotal * r + currentTotal * c;
          return weight > 0 ? referenceTotal * currentTotal * (r - c) * (r - c) / weight : 0;
        };
    return sum(term, box, 0);
  }

  /**
   * Sum over bins of the term's minimum and maximum over the box, each share raised to {@code
   * floor} first when the statistic does so (a monotone map, so the image of the box is again a
   * box).
   */
  private static Interval sum(Term term, Box box, double floor) {
    double low = 0;
    double high = 0;
    for (int i = 0; i < box.referenceLow().length; i++) {
      double rLow = Math.max(floor, box.referenceLow()[i]);
      double rHigh = Math.max(floor, box.referenceHigh()[i]);
      double cLow = Math.max(floor, box.currentLow()[i]);
      double cHigh = Math.max(floor, box.currentHigh()[i]);
      high +=
          Math.max(
              Math.max(term.of(cLow, rLow), term.of(cLow, rHigh)),
              Math.max(term.of(cHigh, rLow), term.of(cHigh, rHigh)));
      if (cLow > rHigh) {
        low += term.of(cLow, rHigh);
      } else if (rLow > cHigh) {
        low += term.of(cHigh, rLow);
      }
    }
    return new Interval(Math.max(0, low), high);
  }

  private static double clamp(double share) {
    return Math.max(0, Math.min(1, share));
  }

  /** a ln(a / m), 0 when a is 0. */
  private static double xLogX(double a, double m) {
    return a > 0 ? a * Math.log(a / m) : 0;
  }
}
