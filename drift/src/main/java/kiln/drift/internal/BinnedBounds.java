package kiln.drift.internal;

/**
 * Intervals that hold the exact PSI, Jensen-Shannon and Hellinger values (with the same bin edges) when
 * either side's bin shares come from a KLL sketch. Each share is within {@code 2 eps} of the exact one
 * (a difference of two CDF values, each within the sketch's rank error {@code eps}); every per-bin term
 * is jointly convex, zero on the diagonal and grows with the separation of its two shares, so over the
 * box of possible shares its maximum is at a corner and its minimum is 0 when the two share intervals
 * overlap, else at the two nearest corners. Summing per-bin extremes gives a conservative interval.
 * drift/README.md ("Bounds on sketched bins") has the derivation.
 */
final class BinnedBounds {
  /** Per-bin term of a statistic, as a function of the current and the reference share. */
  private interface Term {
    double of(double current, double reference);
  }

  private static final Term PSI = (c, r) -> (c - r) * Math.log(c / r);
  /** Twice the Jensen-Shannon divergence's term in nats: a ln(2a/(a+b)) + b ln(2b/(a+b)). */
  private static final Term JENSEN_SHANNON = (c, r) -> xLogX(c, (c + r) / 2) + xLogX(r, (c + r) / 2);
  /** Twice the squared Hellinger distance's term: (sqrt c - sqrt r)^2. */
  private static final Term HELLINGER = (c, r) -> {
    double d = Math.sqrt(c) - Math.sqrt(r);
    return d * d;
  };

  /** {@code low <= exact value <= high}. */
  record Interval(double low, double high) {}

  private BinnedBounds() {}

  /**
   * @param reference shares of the reference per bin (sketch estimates, or exact)
   * @param current shares of the current data per bin
   * @param referenceError how far each reference share may be from the exact one (2 eps; 0 when exact)
   * @param currentError the same for the current shares
   */
  static Interval psi(double[] reference, double[] current, double referenceError, double currentError) {
    return sum(PSI, reference, current, referenceError, currentError, Distances.PSI_EPSILON);
  }

  /** The Jensen-Shannon distance (base 2, the square root of the divergence). */
  static Interval jensenShannon(double[] reference, double[] current, double referenceError, double currentError) {
    Interval twice = sum(JENSEN_SHANNON, reference, current, referenceError, currentError, 0);
    double scale = 2 * Math.log(2); // half the sum of terms is the divergence in nats; / ln 2 in bits
    return new Interval(Math.min(1, Math.sqrt(twice.low() / scale)), Math.min(1, Math.sqrt(twice.high() / scale)));
  }

  /** The Hellinger distance sqrt(1/2 sum (sqrt p - sqrt q)^2), equal to sqrt(1 - sum sqrt(p q)) for shares. */
  static Interval hellinger(double[] reference, double[] current, double referenceError, double currentError) {
    Interval twice = sum(HELLINGER, reference, current, referenceError, currentError, 0);
    return new Interval(Math.min(1, Math.sqrt(twice.low() / 2)), Math.min(1, Math.sqrt(twice.high() / 2)));
  }

  /**
   * Sum over bins of the term's minimum and maximum over [c - ec, c + ec] x [r - er, r + er], each side
   * clamped to [floor, 1] (the statistic itself raises shares below {@code floor} to it, so clamping
   * and flooring the interval ends is the image of the box).
   */
  private static Interval sum(Term term, double[] reference, double[] current, double referenceError,
      double currentError, double floor) {
    double low = 0;
    double high = 0;
    for (int i = 0; i < reference.length; i++) {
      double rLow = clamp(reference[i] - referenceError, floor);
      double rHigh = clamp(reference[i] + referenceError, floor);
      double cLow = clamp(current[i] - currentError, floor);
      double cHigh = clamp(current[i] + currentError, floor);
      high += Math.max(Math.max(term.of(cLow, rLow), term.of(cLow, rHigh)),
          Math.max(term.of(cHigh, rLow), term.of(cHigh, rHigh)));
      if (cLow > rHigh) {
        low += term.of(cLow, rHigh);
      } else if (rLow > cHigh) {
        low += term.of(cHigh, rLow);
      }
    }
    return new Interval(Math.max(0, low), high);
  }

  private static double clamp(double share, double floor) {
    return Math.max(floor, Math.min(1, share));
  }

  /** a ln(a / m), 0 when a is 0. */
  private static double xLogX(double a, double m) {
    return a > 0 ? a * Math.log(a / m) : 0;
  }
}
