package kiln.drift.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import kiln.drift.DriftConfig;
import kiln.drift.Role;
import org.apache.commons.math3.special.Gamma;
import org.junit.jupiter.api.Test;

/**
 * When the frequent-items sketch has purged (more categories than it tracks), its counts are
 * approximate: the exact chi-squared, PSI, Jensen-Shannon and Hellinger values over the same kept
 * categories lie inside the stated intervals. No Spark: profiles built and merged as partitions
 * would be.
 */
class SketchedCategoriesBoundsTest {
  private static final int EXACT_LIMIT = 100;
  private static final int PARTITIONS = 3;

  /** A long tail: a few heavy categories and many rare ones (more than the sketch's 6,144). */
  private static String[] draw(
      long seed, int n, int heads, double headShare, int tail, int offset) {
    SplittableRandom random = new SplittableRandom(seed);
    String[] values = new String[n];
    for (int i = 0; i < n; i++) {
      values[i] =
          random.nextDouble() < headShare
              ? "h" + (int) Math.floor(heads * Math.pow(random.nextDouble(), 2))
              : "t" + (offset + random.nextInt(tail));
    }
    return values;
  }

  private static CategoricalProfile profile(String[] values) {
    CategoricalProfile total = new CategoricalProfile(EXACT_LIMIT);
    for (int p = 0; p < PARTITIONS; p++) {
      CategoricalProfile partition = new CategoricalProfile(EXACT_LIMIT);
      for (int i = p; i < values.length; i += PARTITIONS) {
        partition.add(values[i]);
      }
      total.merge(partition);
    }
    return total;
  }

  private static Map<String, Long> exactCounts(String[] values) {
    Map<String, Long> counts = new HashMap<>();
    for (String v : values) {
      counts.merge(v, 1L, Long::sum);
    }
    return counts;
  }

  @Test
  void aShiftedTailGivesIntervalsThatHoldTheExactStatistics() {
    Map<String, Double> s =
        check(draw(1, 200_000, 40, 0.8, 20_000, 0), draw(2, 150_000, 45, 0.75, 20_000, 5_000));
    assertThat(s.get("psi_low")).isGreaterThan(0.04);
  }

  /**
   * Same distribution; the kept tail categories are the reference's lucky ones, so the p-value is
   * small but not 0.
   */
  @Test
  void theSameDistributionGivesAPValueIntervalThatHoldsTheExactOne() {
    Map<String, Double> s =
        check(draw(3, 200_000, 40, 0.8, 20_000, 0), draw(4, 150_000, 40, 0.8, 20_000, 0));
    assertThat(s.get("chi_squared_p_value_high")).isGreaterThan(0.01);
  }

  private static Map<String, Double> check(String[] referenceValues, String[] currentValues) {
    CategoricalProfile reference = profile(referenceValues);
    CategoricalProfile current = profile(currentValues);
    assertThat(reference.maximumCountError()).isPositive();
    Measurement m = new Measurement("c", Role.FEATURE, "categorical");
    DriftConfig config = DriftConfig.defaults();
    CategoricalComparison.measure(m, reference, current, config);

    // the categories Kiln kept: the reference sketch's top 50 by estimate, ties by name
    List<String> kept =
        reference.categoryCounts().entrySet().stream()
            .sorted(
                Comparator.<Map.Entry<String, Long>>comparingLong(Map.Entry::getValue)
                    .reversed()
                    .thenComparing(Map.Entry::getKey))
            .map(Map.Entry::getKey)
            .limit(config.topCategories())
            .toList();
    Map<String, Long> r = exactCounts(referenceValues);
    Map<String, Long> c = exactCounts(currentValues);
    double[] rc = new double[kept.size() + 1];
    double[] cc = new double[kept.size() + 1];
    for (int i = 0; i < kept.size(); i++) {
      rc[i] = r.getOrDefault(kept.get(i), 0L);
      cc[i] = c.getOrDefault(kept.get(i), 0L);
      rc[kept.size()] -= rc[i];
      cc[kept.size()] -= cc[i];
    }
    rc[kept.size()] += referenceValues.length;
    cc[kept.size()] += currentValues.length;
    double[] rs = new double[rc.length];
    double[] cs = new double[cc.length];
    for (int i = 0; i < rc.length; i++) {
      rs[i] = rc[i] / referenceValues.length;
      cs[i] = cc[i] / currentValues.length;
    }
    double[] chi = CategoricalComparison.chiSquared(rc, cc);
    Map<String, Double> exact =
        Map.of(
            "psi",
            Distances.psi(rs, cs),
            "jensen_shannon",
            Distances.jensenShannon(rs, cs),
            "hellinger",
            Distances.hellinger(rs, cs),
            "chi_squared",
            chi[0],
            "chi_squared_p_value",
            chi[2]);
    exact.forEach(
        (metric, value) -> {
          assertThat(value)
              .as("exact %s", metric)
              .isBetween(m.statistics.get(metric + "_low"), m.statistics.get(metric + "_high"));
          assertThat(m.statistics.get(metric))
              .as("sketched %s", metric)
              .isBetween(m.statistics.get(metric + "_low"), m.statistics.get(metric + "_high"));
        });
    // not trivially wide
    assertThat(m.statistics.get("psi_high") - m.statistics.get("psi_low"))
        .isLessThan(0.5 * exact.get("psi") + 0.05);
    assertThat(m.statistics.get("hellinger_high") - m.statistics.get("hellinger_low"))
        .isLessThan(0.1);
    assertThat(m.statistics.get("chi_squared_high") - m.statistics.get("chi_squared_low"))
        .isLessThan(0.1 * chi[0] + 100);
    assertThat(Gamma.regularizedGammaQ(chi[1] / 2, m.statistics.get("chi_squared_high") / 2))
        .isEqualTo(m.statistics.get("chi_squared_p_value_low"));
    assertThat(m.notes).anyMatch(n -> n.startsWith("sketched (frequent items): PSI "));
    return m.statistics;
  }
}
