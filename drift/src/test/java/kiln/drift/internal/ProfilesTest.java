package kiln.drift.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Map;
import kiln.drift.Correction;
import org.junit.jupiter.api.Test;

/** Profiles merge and round-trip exactly; the tests' and corrections' arithmetic. No Spark. */
class ProfilesTest {

  @Test
  void numericProfilesMergeLikeOneProfileOfAllValuesAndSurviveEncoding() {
    NumericProfile whole = new NumericProfile(100, 200);
    NumericProfile left = new NumericProfile(100, 200);
    NumericProfile right = new NumericProfile(100, 200);
    for (int i = 0; i < 1000; i++) {
      double value = i % 40 * 1.5;
      whole.add(value);
      (i < 300 ? left : right).add(value);
    }
    left.add(Double.NaN);
    left.addNull();
    right.add(Double.NEGATIVE_INFINITY);
    left.merge(right);
    assertThat(left.finite()).isEqualTo(1000);
    assertThat(left.rows()).isEqualTo(1003);
    assertThat(left.nans()).isEqualTo(1);
    assertThat(left.infinities()).isEqualTo(1);
    assertThat(left.mean()).isCloseTo(whole.mean(), within(1e-12));
    assertThat(left.standardDeviation()).isCloseTo(whole.standardDeviation(), within(1e-12));
    assertThat(left.exact()).isTrue();

    NumericProfile decoded = (NumericProfile) TableProfile.decode(TableProfile.encode(left));
    assertThat(decoded.distribution().cdf(30)).isEqualTo(left.distribution().cdf(30));
    assertThat(decoded.rows()).isEqualTo(1003);
    assertThat(decoded.min()).isEqualTo(0.0);
    assertThat(decoded.max()).isEqualTo(58.5);
  }

  @Test
  void tooManyDistinctValuesSwitchToASketchWhoseRanksStayWithinItsBound() {
    NumericProfile exact = new NumericProfile(50, 200);
    NumericProfile sketched = new NumericProfile(50, 200);
    for (int i = 0; i < 20_000; i++) {
      (i % 2 == 0 ? exact : sketched).add(i % 30);
      if (i % 2 == 1) {
        sketched.add(1000 + i);
      }
    }
    assertThat(exact.exact()).isTrue();
    assertThat(sketched.exact()).isFalse();
    exact.merge(sketched);
    assertThat(exact.exact()).isFalse();
    StepDistribution distribution = exact.distribution();
    // 20,000 values below 30, 10,000 above 1000 of 30,000
    assertThat(distribution.cdf(500)).isCloseTo(2.0 / 3, within(exact.rankError()));
    NumericProfile decoded = (NumericProfile) TableProfile.decode(TableProfile.encode(exact));
    assertThat(decoded.distribution().cdf(500)).isEqualTo(distribution.cdf(500));
  }

  @Test
  void categoricalProfilesCountExactlyThenBoundTheirMemory() {
    CategoricalProfile a = new CategoricalProfile(5);
    CategoricalProfile b = new CategoricalProfile(5);
    for (int i = 0; i < 100; i++) {
      a.add("k" + i % 3);
      b.add("k" + i % 4);
    }
    b.addNull();
    a.merge(b);
    assertThat(a.exact()).isTrue();
    assertThat(a.categoryCounts()).isEqualTo(Map.of("k0", 59L, "k1", 58L, "k2", 58L, "k3", 25L));
    for (int i = 0; i < 100; i++) {
      a.add("new" + i);
    }
    assertThat(a.exact()).isFalse();
    assertThat(a.categoryCounts().get("k0"))
        .isBetween(59L - a.maximumCountError(), 59L + a.maximumCountError());
    CategoricalProfile decoded = (CategoricalProfile) TableProfile.decode(TableProfile.encode(a));
    assertThat(decoded.rows()).isEqualTo(301);
    assertThat(decoded.nulls()).isEqualTo(1);
  }

  @Test
  void exactKolmogorovSmirnovPValuesAtTheEdges() {
    // one sample of 1 against 1: D = 1 always, P(D >= 1) = 1
    assertThat(KolmogorovSmirnov.exactPValue(1, 1, 1)).isEqualTo(1.0);
    // 3 vs 3, D = 1 only when the samples do not interleave: 2 of 20 orderings
    assertThat(KolmogorovSmirnov.exactPValue(3, 3, 9)).isCloseTo(0.1, within(1e-15));
    assertThat(KolmogorovSmirnov.exactPValue(5, 7, 0)).isEqualTo(1.0);
  }

  @Test
  void correctionsLowerTheLevelAsDocumented() {
    // a column without a p-value (e.g. compared by PSI only) is not one of the m tests
    List<Measurement> measurements =
        List.of(withP(0.5), withP(0.001), withP(0.03), withP(0.02), withP(null));
    assertThat(DriftEngine.correctedLevel(measurements, 0.05, Correction.NONE)).isEqualTo(0.05);
    // Bonferroni: alpha / m, m = 4
    assertThat(DriftEngine.correctedLevel(measurements, 0.05, Correction.BONFERRONI))
        .isEqualTo(0.05 / 4);
    // Benjamini-Hochberg: 0.001 <= 0.0125, 0.02 <= 0.025, 0.03 <= 0.0375, 0.5 > 0.05: reject the
    // three smallest,
    // so the level (a strict bound, p < level) lies just above 0.03
    assertThat(DriftEngine.correctedLevel(measurements, 0.05, Correction.FDR))
        .isEqualTo(Math.nextUp(0.03));
    // step-up, not step-down: 0.03 > 0.025 fails at rank 2, yet 0.049 <= 0.05 at rank 4 rejects all
    // four
    List<Measurement> stepUp = List.of(withP(0.011), withP(0.03), withP(0.035), withP(0.049));
    assertThat(DriftEngine.correctedLevel(stepUp, 0.05, Correction.FDR))
        .isEqualTo(Math.nextUp(0.049));
    // no rank passes (0.03 > 0.025, 0.5 > 0.05): nothing is rejected
    assertThat(DriftEngine.correctedLevel(List.of(withP(0.03), withP(0.5)), 0.05, Correction.FDR))
        .isZero();
  }

  private static Measurement withP(Double p) {
    Measurement m = new Measurement("c" + p, kiln.drift.Role.FEATURE, "numeric");
    m.pValue = p;
    return m;
  }
}
