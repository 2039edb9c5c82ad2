package kiln.drift.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import kiln.drift.DriftConfig;
import kiln.drift.Histogram;
import kiln.drift.Range;
import kiln.drift.Statistic;

/** Drift statistics of a numeric column from its two profiles. */
final class NumericComparison {
  static final int PLOT_BINS = 20;

  private NumericComparison() {}

  static void measure(
      Measurement m, NumericProfile reference, NumericProfile current, DriftConfig config) {
    m.put("null_rate_reference", rate(reference.nulls(), reference.rows()));
    m.put("null_rate_current", rate(current.nulls(), current.rows()));
    m.put(
        "non_finite_rate_reference",
        rate(reference.nans() + reference.infinities(), reference.rows() - reference.nulls()));
    m.put(
        "non_finite_rate_current",
        rate(current.nans() + current.infinities(), current.rows() - current.nulls()));
    m.put("mean_reference", reference.mean());
    m.put("mean_current", current.mean());
    m.put("std_reference", reference.standardDeviation());
    m.put("std_current", current.standardDeviation());
    if (reference.finite() == 0 || current.finite() == 0) {
      String side =
          reference.finite() == 0 && current.finite() == 0
              ? "either side"
              : reference.finite() == 0 ? "the reference" : "the current data";
      m.notes.add("no finite value in " + side + ": distributions not compared");
      m.histogram = Histogram.empty();
      return;
    }
    StepDistribution r = reference.distribution();
    StepDistribution c = current.distribution();
    m.exact = r.exact() && c.exact();
    double bound = reference.rankError() + current.rankError();

    if (config.computes(Statistic.PSI)
        || config.computes(Statistic.JENSEN_SHANNON)
        || config.computes(Statistic.HELLINGER)) {
      double[] edges = quantileEdges(r, config.bins());
      double[] rs = binShares(r, edges);
      double[] cs = binShares(c, edges);
      // a bin's share is a difference of two CDF values, each within the sketch's rank error
      BinnedBounds.Box box =
          BinnedBounds.Box.around(rs, cs, 2 * reference.rankError(), 2 * current.rankError());
      List<String> intervals = new ArrayList<>();
      if (config.computes(Statistic.PSI)) {
        double psi = Distances.psi(rs, cs);
        m.put("psi", psi);
        if (!m.exact) {
          interval(m, intervals, "psi", "PSI", psi, BinnedBounds.psi(box));
        }
      }
      if (config.computes(Statistic.JENSEN_SHANNON)) {
        double js = Distances.jensenShannon(rs, cs);
        m.put("jensen_shannon", js);
        if (!m.exact) {
          interval(
              m,
              intervals,
              "jensen_shannon",
              "Jensen-Shannon",
              js,
              BinnedBounds.jensenShannon(box));
        }
      }
      if (config.computes(Statistic.HELLINGER)) {
        double hellinger = Distances.hellinger(rs, cs);
        m.put("hellinger", hellinger);
        if (!m.exact) {
          interval(m, intervals, "hellinger", "Hellinger", hellinger, BinnedBounds.hellinger(box));
        }
      }
      if (!intervals.isEmpty()) {
        m.notes.add(
            "sketched (KLL) bins: "
                + String.join("; ", intervals)
                + " (the exact value with these bin edges lies in the interval)");
      }
    }
    if (config.computes(Statistic.KS)) {
      KolmogorovSmirnov.Result ks = KolmogorovSmirnov.test(r, c);
      m.put("ks_statistic", ks.statistic());
      m.put("ks_p_value", ks.pValue());
      m.put("ks_error_bound", bound);
      if (bound > 0) {
        // the p-value of any statistic within the bound: the true p-value lies in this interval
        m.put(
            "ks_p_value_low",
            KolmogorovSmirnov.asymptoticPValue(ks.statistic() + bound, r.total(), c.total()));
        m.put(
            "ks_p_value_high",
            KolmogorovSmirnov.asymptoticPValue(
                Math.max(0, ks.statistic() - bound), r.total(), c.total()));
      }
      m.pValue = ks.pValue();
      m.pValueName = "KS p-value";
    }
    if (config.computes(Statistic.WASSERSTEIN)) {
      double w = wasserstein(r, c);
      m.put("wasserstein", w);
      double std = reference.standardDeviation();
      m.put("wasserstein_normalised", std > 0 ? w / std : (w == 0 ? 0 : Double.POSITIVE_INFINITY));
      if (bound > 0) {
        m.put(
            "wasserstein_error_bound",
            bound
                * (Math.max(reference.max(), current.max())
                    - Math.min(reference.min(), current.min())));
      }
    }
    Range range = config.ranges().get(m.name);
    double low =
        range != null && range.min() != null
            ? range.min()
            : range != null ? Double.NEGATIVE_INFINITY : reference.min();
    double high =
        range != null && range.max() != null
            ? range.max()
            : range != null ? Double.POSITIVE_INFINITY : reference.max();
    m.put(
        "out_of_range_rate",
        (c.weightBelow(low) + (c.total() - c.weightAtOrBelow(high))) / c.total());
    if (range != null) {
      m.put(
          "out_of_range_rate_reference",
          (r.weightBelow(low) + (r.total() - r.weightAtOrBelow(high))) / r.total());
    }
    if (!m.exact) {
      m.notes.add(
          String.format(
              Locale.ROOT, "sketched (KLL): ranks within +/-%.4f at 99%% confidence", bound));
    }
    // the plot's bins are the PSI's (the reference's quantiles), so that what the PSI measures is
    // what the eye sees: each bar of the reference holds about the same share, and the current
    // side's bars show where the mass moved (equal-width bins over min-max show a heavy-tailed
    // column as one or two bars)
    m.histogram =
        histogram(r, c, quantileEdges(r, Math.min(config.bins(), PLOT_BINS)), reference, current);
  }

  /**
   * Bins cut at the reference's deciles (or {@code bins}-quantiles): edges are the inverted-CDF
   * quantiles k/bins, duplicates removed; bins are (-inf, e1], (e1, e2], ..., (ek, inf).
   */
  static double[] quantileEdges(StepDistribution reference, int bins) {
    double[] edges = new double[Math.max(0, bins - 1)];
    int n = 0;
    for (int k = 1; k < bins; k++) {
      double edge = reference.quantile(k, bins);
      if (n == 0 || edges[n - 1] < edge) {
        edges[n++] = edge;
      }
    }
    return Arrays.copyOf(edges, n);
  }

  /** Shares of a side in the bins (-inf, e1], (e1, e2], ..., (ek, inf). */
  static double[] binShares(StepDistribution side, double[] edges) {
    double[] shares = new double[edges.length + 1];
    double previous = 0;
    for (int i = 0; i < shares.length; i++) {
      double at = i < edges.length ? side.weightAtOrBelow(edges[i]) : side.total();
      shares[i] = (at - previous) / side.total();
      previous = at;
    }
    return shares;
  }

  static void interval(
      Measurement m,
      List<String> notes,
      String metric,
      String label,
      double value,
      BinnedBounds.Interval interval) {
    m.put(metric + "_low", interval.low());
    m.put(metric + "_high", interval.high());
    notes.add(
        String.format(
            Locale.ROOT, "%s %.4f in [%.4f, %.4f]", label, value, interval.low(), interval.high()));
  }

  /** Wasserstein-1: the area between the two CDFs, over the union of their steps. */
  static double wasserstein(StepDistribution reference, StepDistribution current) {
    double[] a = reference.values();
    double[] b = current.values();
    double[] all = new double[a.length + b.length];
    int n = 0;
    int i = 0;
    int j = 0;
    while (i < a.length || j < b.length) {
      double x = j >= b.length || (i < a.length && a[i] <= b[j]) ? a[i] : b[j];
      all[n++] = x;
      while (i < a.length && a[i] <= x) {
        i++;
      }
      while (j < b.length && b[j] <= x) {
        j++;
      }
    }
    double area = 0;
    for (int k = 0; k + 1 < n; k++) {
      double gap = Math.abs(reference.cdf(all[k]) - current.cdf(all[k]));
      area += gap * (all[k + 1] - all[k]);
    }
    return area;
  }

  /**
   * Both sides' shares in the bins (-inf, e1], (e1, e2], ..., (ek, inf), labelled with the values
   * the sides actually reach at the open ends.
   */
  static Histogram histogram(
      StepDistribution r,
      StepDistribution c,
      double[] edges,
      NumericProfile reference,
      NumericProfile current) {
    double[] rs = binShares(r, edges);
    double[] cs = binShares(c, edges);
    double low = Math.min(reference.min(), current.min());
    double high = Math.max(reference.max(), current.max());
    List<String> labels = new ArrayList<>();
    for (int i = 0; i <= edges.length; i++) {
      if (edges.length == 0) {
        labels.add(low == high ? format(low) : format(low) + " to " + format(high));
      } else if (i == 0) {
        labels.add(format(low) + " to " + format(edges[0]));
      } else if (i == edges.length) {
        labels.add("above " + format(edges[i - 1]) + " to " + format(high));
      } else {
        labels.add("above " + format(edges[i - 1]) + " to " + format(edges[i]));
      }
    }
    List<Double> referenceShares = new ArrayList<>();
    List<Double> currentShares = new ArrayList<>();
    for (int i = 0; i < rs.length; i++) {
      referenceShares.add(rs[i]);
      currentShares.add(cs[i]);
    }
    return new Histogram(labels, referenceShares, currentShares);
  }

  static String format(double value) {
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return String.valueOf((long) value);
    }
    return String.format(Locale.ROOT, "%.4g", value);
  }

  static double rate(long part, long whole) {
    return whole == 0 ? 0 : (double) part / whole;
  }
}
