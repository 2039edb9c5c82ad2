package kiln.drift.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import kiln.drift.DriftConfig;
import kiln.drift.Role;
import org.junit.jupiter.api.Test;

/**
 * On a sketched numeric column, the exact PSI, Jensen-Shannon and Hellinger values computed from
 * the data itself with the bin edges Kiln used lie inside the stated intervals, and the intervals
 * are narrow. No Spark: the profiles are built and merged as the partitions of a scan would be.
 */
class SketchedBinBoundsTest {
  private static final int SKETCH_K = 1000;
  private static final int EXACT_LIMIT = 1000;
  private static final int PARTITIONS = 4;

  /** The integers DriftStatisticsTest and make_fixtures.py use: ((i m) % p) % f + s. */
  private static double[] formula(int n, long multiplier, long modulus, long fold, long shift) {
    double[] values = new double[n];
    for (int i = 0; i < n; i++) {
      values[i] = (i * multiplier) % modulus % fold + shift;
    }
    return values;
  }

  private static NumericProfile profile(double[] values, int exactLimit) {
    NumericProfile total = new NumericProfile(exactLimit, SKETCH_K);
    for (int p = 0; p < PARTITIONS; p++) {
      NumericProfile partition = new NumericProfile(exactLimit, SKETCH_K);
      for (int i = p; i < values.length; i += PARTITIONS) {
        partition.add(values[i]);
      }
      total.merge(partition);
    }
    return total;
  }

  private static Map<String, Double> check(
      double[] referenceValues, double[] currentValues, Map<String, Double> maxWidth) {
    NumericProfile reference = profile(referenceValues, EXACT_LIMIT);
    NumericProfile current = profile(currentValues, EXACT_LIMIT);
    assertThat(reference.exact()).isFalse();
    assertThat(current.exact()).isFalse();
    Measurement m = new Measurement("x", Role.FEATURE, "numeric");
    DriftConfig config = DriftConfig.defaults();
    NumericComparison.measure(m, reference, current, config);

    // the exact statistics over the same edges, from exact counts of the same values
    double[] edges = NumericComparison.quantileEdges(reference.distribution(), config.bins());
    double[] exactR =
        NumericComparison.binShares(
            profile(referenceValues, Integer.MAX_VALUE).distribution(), edges);
    double[] exactC =
        NumericComparison.binShares(
            profile(currentValues, Integer.MAX_VALUE).distribution(), edges);
    Map<String, Double> exact =
        Map.of(
            "psi",
            Distances.psi(exactR, exactC),
            "jensen_shannon",
            Distances.jensenShannon(exactR, exactC),
            "hellinger",
            Distances.hellinger(exactR, exactC));
    exact.forEach(
        (metric, value) -> {
          double low = m.statistics.get(metric + "_low");
          double high = m.statistics.get(metric + "_high");
          assertThat(value).as("exact %s", metric).isBetween(low, high);
          assertThat(m.statistics.get(metric)).as("sketched %s", metric).isBetween(low, high);
          assertThat(high - low)
              .as("width of the %s interval", metric)
              .isLessThan(maxWidth.get(metric));
        });
    assertThat(m.notes)
        .anyMatch(n -> n.startsWith("sketched (KLL) bins: PSI ") && n.contains(" in ["));
    return m.statistics;
  }

  @Test
  void theExactStatisticsWithTheSameEdgesLieInsideNarrowIntervals() {
    // the numeric-sketched fixture: 50,000 and 40,000 distinct integers, a small shift. PSI about
    // 0.008:
    // the interval (about [0.002, 0.03]) still says the column is far below the 0.2 threshold
    check(
        formula(50_000, 7919, 100_003, 100_003, 0),
        formula(40_000, 104_729, 100_019, 100_019, 2000),
        Map.of("psi", 0.05, "jensen_shannon", 0.08, "hellinger", 0.08));
  }

  @Test
  void aLargeShiftGivesAnIntervalAwayFromZero() {
    Map<String, Double> statistics =
        check(
            formula(50_000, 7919, 100_003, 100_003, 0),
            formula(40_000, 104_729, 100_019, 100_019, 30_000),
            Map.of("psi", 2.0, "jensen_shannon", 0.1, "hellinger", 0.15));
    // PSI about 2.2: near-empty current bins make PSI's interval wide (ln of a share near 0), but
    // it is
    // far above the 0.2 threshold all the same
    assertThat(statistics.get("psi_low")).isGreaterThan(0.2);
    assertThat(statistics.get("hellinger_low")).isGreaterThan(0.1);
  }

  @Test
  void exactColumnsHaveNoInterval() {
    NumericProfile reference = profile(formula(5000, 7, 101, 101, 0), EXACT_LIMIT);
    NumericProfile current = profile(formula(5000, 11, 103, 103, 0), EXACT_LIMIT);
    Measurement m = new Measurement("x", Role.FEATURE, "numeric");
    NumericComparison.measure(m, reference, current, DriftConfig.defaults());
    assertThat(m.statistics)
        .containsKey("psi")
        .doesNotContainKeys("psi_low", "psi_high", "jensen_shannon_low", "hellinger_high");
  }
}
