package kiln.drift.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import kiln.drift.DriftConfig;
import kiln.drift.Histogram;
import kiln.drift.Statistic;
import org.apache.commons.math3.special.Gamma;

/** Drift statistics of a categorical column from its two profiles. */
final class CategoricalComparison {
  static final String OTHER = "(other)";
  static final int LISTED_CATEGORIES = 20;

  private CategoricalComparison() {}

  static void measure(
      Measurement m, CategoricalProfile reference, CategoricalProfile current, DriftConfig config) {
    m.put("null_rate_reference", NumericComparison.rate(reference.nulls(), reference.rows()));
    m.put("null_rate_current", NumericComparison.rate(current.nulls(), current.rows()));
    if (reference.nonNull() == 0 || current.nonNull() == 0) {
      String side =
          reference.nonNull() == 0 && current.nonNull() == 0
              ? "either side"
              : reference.nonNull() == 0 ? "the reference" : "the current data";
      m.notes.add("no non-null value in " + side + ": distributions not compared");
      m.histogram = Histogram.empty();
      return;
    }
    m.exact = reference.exact() && current.exact();
    Map<String, Long> r = reference.categoryCounts();
    Map<String, Long> c = current.categoryCounts();
    List<String> kept = byCountDescending(r).stream().limit(config.topCategories()).toList();

    int buckets = kept.size() + 1;
    double[] rc = new double[buckets];
    double[] cc = new double[buckets];
    double keptR = 0;
    double keptC = 0;
    for (int i = 0; i < kept.size(); i++) {
      rc[i] = r.getOrDefault(kept.get(i), 0L);
      cc[i] = c.getOrDefault(kept.get(i), 0L);
      keptR += rc[i];
      keptC += cc[i];
    }
    rc[buckets - 1] = Math.max(0, reference.nonNull() - keptR);
    cc[buckets - 1] = Math.max(0, current.nonNull() - keptC);
    double[] rs = shares(rc);
    double[] cs = shares(cc);

    List<String> newCategories =
        byCountDescending(c).stream().filter(k -> !r.containsKey(k)).toList();
    List<String> missingCategories =
        byCountDescending(r).stream().filter(k -> !c.containsKey(k)).toList();
    m.put("categories_reference", r.size());
    m.put("categories_current", c.size());
    m.put("new_categories", newCategories.size());
    m.put("missing_categories", missingCategories.size());
    m.put(
        "new_category_rate",
        newCategories.stream().mapToDouble(k -> c.get(k)).sum() / current.nonNull());
    m.newCategories = newCategories.stream().limit(LISTED_CATEGORIES).toList();
    m.missingCategories = missingCategories.stream().limit(LISTED_CATEGORIES).toList();

    if (config.computes(Statistic.PSI)) {
      m.put("psi", Distances.psi(rs, cs));
    }
    if (config.computes(Statistic.JENSEN_SHANNON)) {
      m.put("jensen_shannon", Distances.jensenShannon(rs, cs));
    }
    if (config.computes(Statistic.HELLINGER)) {
      m.put("hellinger", Distances.hellinger(rs, cs));
    }
    if (config.computes(Statistic.CHI_SQUARED)) {
      double[] test = chiSquared(rc, cc);
      m.put("chi_squared", test[0]);
      m.put("chi_squared_dof", test[1]);
      m.put("chi_squared_p_value", test[2]);
      m.pValue = test[2];
      m.pValueName = "chi-squared p-value";
    }
    if (!m.exact) {
      long error = Math.max(reference.maximumCountError(), current.maximumCountError());
      m.put("count_error_bound", error);
      if (error > 0) {
        bounds(
            m,
            config,
            kept,
            r,
            c,
            reference,
            current,
            (int) Math.round(m.statistics.getOrDefault("chi_squared_dof", 0.0)));
      }
      m.notes.add(
          "more than "
              + config.exactDistinctLimit()
              + " categories: counts from a frequent-items sketch,"
              + " each within "
              + error
              + "; new and missing categories are approximate");
    }
    List<String> labels = new ArrayList<>(kept);
    labels.add(OTHER);
    List<Double> referenceShares = new ArrayList<>();
    List<Double> currentShares = new ArrayList<>();
    for (int i = 0; i < buckets; i++) {
      referenceShares.add(rs[i]);
      currentShares.add(cs[i]);
    }
    if (rc[buckets - 1] == 0 && cc[buckets - 1] == 0) {
      labels.remove(buckets - 1);
      referenceShares.remove(buckets - 1);
      currentShares.remove(buckets - 1);
    }
    m.histogram = new Histogram(labels, referenceShares, currentShares);
  }

  /**
   * Intervals that hold the exact statistics over the same kept categories when a sketch's counts
   * are approximate: a tracked count is within [estimate - error, estimate], an untracked one
   * within [0, error], "(other)" is the rest of the exact non-null count. See drift/README.md.
   */
  private static void bounds(
      Measurement m,
      DriftConfig config,
      List<String> kept,
      Map<String, Long> r,
      Map<String, Long> c,
      CategoricalProfile reference,
      CategoricalProfile current,
      int dof) {
    double[][] rb = shareRanges(kept, r, reference);
    double[][] cb = shareRanges(kept, c, current);
    BinnedBounds.Box box = new BinnedBounds.Box(rb[0], rb[1], cb[0], cb[1]);
    List<String> intervals = new ArrayList<>();
    if (config.computes(Statistic.PSI)) {
      NumericComparison.interval(
          m, intervals, "psi", "PSI", m.statistics.get("psi"), BinnedBounds.psi(box));
    }
    if (config.computes(Statistic.JENSEN_SHANNON)) {
      NumericComparison.interval(
          m,
          intervals,
          "jensen_shannon",
          "Jensen-Shannon",
          m.statistics.get("jensen_shannon"),
          BinnedBounds.jensenShannon(box));
    }
    if (config.computes(Statistic.HELLINGER)) {
      NumericComparison.interval(
          m,
          intervals,
          "hellinger",
          "Hellinger",
          m.statistics.get("hellinger"),
          BinnedBounds.hellinger(box));
    }
    if (config.computes(Statistic.CHI_SQUARED) && dof > 0) {
      BinnedBounds.Interval chi =
          BinnedBounds.chiSquared(box, reference.nonNull(), current.nonNull());
      NumericComparison.interval(
          m, intervals, "chi_squared", "chi-squared", m.statistics.get("chi_squared"), chi);
      m.put("chi_squared_p_value_low", Gamma.regularizedGammaQ(dof / 2.0, chi.high() / 2));
      m.put("chi_squared_p_value_high", Gamma.regularizedGammaQ(dof / 2.0, chi.low() / 2));
    }
    if (!intervals.isEmpty()) {
      m.notes.add(
          "sketched (frequent items): "
              + String.join("; ", intervals)
              + " (the exact value over these categories lies in the interval)");
    }
  }

  /** Low and high share per kept category and "(other)", from the count bounds of a side. */
  private static double[][] shareRanges(
      List<String> kept, Map<String, Long> estimates, CategoricalProfile side) {
    long error = side.maximumCountError();
    double total = side.nonNull();
    double[] low = new double[kept.size() + 1];
    double[] high = new double[kept.size() + 1];
    double keptLow = 0;
    double keptHigh = 0;
    for (int i = 0; i < kept.size(); i++) {
      Long estimate = estimates.get(kept.get(i));
      double lowCount = estimate == null ? 0 : Math.max(0, estimate - error);
      double highCount = estimate == null ? error : estimate;
      keptLow += lowCount;
      keptHigh += highCount;
      low[i] = Math.min(1, lowCount / total);
      high[i] = Math.min(1, highCount / total);
    }
    low[kept.size()] = Math.max(0, total - keptHigh) / total;
    high[kept.size()] = Math.max(0, total - keptLow) / total;
    return new double[][] {low, high};
  }

  /**
   * Pearson's chi-squared test of homogeneity on the 2 x k table (reference and current counts per
   * category), categories empty on both sides left out, no continuity correction. Returns the
   * statistic, the degrees of freedom and the p-value.
   */
  static double[] chiSquared(double[] reference, double[] current) {
    double totalR = 0;
    double totalC = 0;
    int columns = 0;
    for (int i = 0; i < reference.length; i++) {
      totalR += reference[i];
      totalC += current[i];
      if (reference[i] + current[i] > 0) {
        columns++;
      }
    }
    if (columns < 2) {
      return new double[] {0, 0, 1};
    }
    double grand = totalR + totalC;
    double statistic = 0;
    for (int i = 0; i < reference.length; i++) {
      double column = reference[i] + current[i];
      if (column == 0) {
        continue;
      }
      double expectedR = totalR * column / grand;
      double expectedC = totalC * column / grand;
      statistic += (reference[i] - expectedR) * (reference[i] - expectedR) / expectedR;
      statistic += (current[i] - expectedC) * (current[i] - expectedC) / expectedC;
    }
    double dof = columns - 1;
    double p = Gamma.regularizedGammaQ(dof / 2, statistic / 2);
    return new double[] {statistic, dof, p};
  }

  private static List<String> byCountDescending(Map<String, Long> counts) {
    return counts.entrySet().stream()
        .sorted(
            Comparator.<Map.Entry<String, Long>>comparingLong(Map.Entry::getValue)
                .reversed()
                .thenComparing(Map.Entry::getKey))
        .map(Map.Entry::getKey)
        .toList();
  }

  private static double[] shares(double[] counts) {
    double total = 0;
    for (double c : counts) {
      total += c;
    }
    double[] shares = new double[counts.length];
    for (int i = 0; i < counts.length; i++) {
      shares[i] = total == 0 ? 0 : counts[i] / total;
    }
    return shares;
  }
}
