package kiln.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class PeerAgreementTest {
  static final String KILN =
      """
      {"tool": "kiln", "seconds": {"load": 0, "compute": 3.5},
       "statistics": {
         "delay": {"ks_statistic": 0.031, "ks_p_value": 0.0, "wasserstein": 1.5,
                   "wasserstein_normalised": 0.04, "jensen_shannon": 0.02, "psi": 0.01},
         "origin": {"jensen_shannon": 0.05, "chi_squared": 1200.0, "chi_squared_p_value": 0.0,
                    "psi": 0.02}},
       "cbpe": {"roc_auc": 0.61, "accuracy": 0.8}}
      """;

  @Test
  void evidentlysStatisticsAreMatchedByNameAndItsNaturalLogJensenShannonIsRescaledToBaseTwo() {
    String evidently =
        """
        {"tool": "evidently", "seconds": {"load": 1, "compute": 9},
         "statistics": {
           "delay": {"Wasserstein distance (normed)": 0.041, "ks": 0.0},
           "origin": {"jensenshannon": 0.0416, "chisquare": 0.0}}}
        """;
    List<PeerAgreement.Row> rows =
        PeerAgreement.compare(PeerAgreement.parse(KILN), PeerAgreement.parse(evidently));

    assertThat(rows)
        .extracting(PeerAgreement.Row::statistic, PeerAgreement.Row::column)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple(
                "wasserstein_normalised / Wasserstein distance (normed)", "delay"),
            org.assertj.core.groups.Tuple.tuple("jensen_shannon / jensenshannon", "delay"),
            org.assertj.core.groups.Tuple.tuple("jensen_shannon / jensenshannon", "origin"),
            org.assertj.core.groups.Tuple.tuple("ks_p_value / ks", "delay"),
            org.assertj.core.groups.Tuple.tuple("chi_squared_p_value / chisquare", "origin"));
    assertThat(rows.get(0).difference()).isCloseTo(0.001, within(1e-12));
    // a method the peer ran, but not on this column: reported as missing, not dropped
    assertThat(rows.get(1).peerValue()).isNaN();
    // 0.0416 nats-based distance / sqrt(ln 2) = 0.04997 on Kiln's base-2 scale
    assertThat(rows.get(2).peerValue()).isCloseTo(0.0416 / Math.sqrt(Math.log(2)), within(1e-12));
    assertThat(rows.get(2).difference()).isLessThan(1e-4);
    // PSI and Hellinger were not run by this peer: no rows for them
    assertThat(rows).noneMatch(r -> r.statistic().startsWith("psi"));
  }

  @Test
  void nannyMlsCbpeEstimatesAndStatisticsAreComparedAndTheMarkdownShowsEachDifference() {
    String nannyml =
        """
        {"tool": "nannyml", "seconds": {"load": 1, "compute": 20},
         "statistics": {
           "delay": {"kolmogorov_smirnov": 0.0305, "wasserstein": 1.5, "jensen_shannon": 0.03},
           "origin": {"chi2": 1199.5, "jensen_shannon": 0.05}},
         "cbpe": {"roc_auc": 0.6102, "accuracy": 0.8}}
        """;
    List<PeerAgreement.Row> rows =
        PeerAgreement.compare(PeerAgreement.parse(KILN), PeerAgreement.parse(nannyml));

    assertThat(rows)
        .extracting(PeerAgreement.Row::statistic)
        .containsExactly(
            "ks_statistic / kolmogorov_smirnov",
            "wasserstein",
            "jensen_shannon",
            "jensen_shannon",
            "chi_squared / chi2",
            "cbpe roc_auc",
            "cbpe accuracy");
    assertThat(rows.get(0).difference()).isCloseTo(0.0005, within(1e-12));
    assertThat(rows.get(5).difference()).isCloseTo(0.0002, within(1e-12));
    String table = PeerAgreement.markdown(rows);
    assertThat(table)
        .contains("| nannyml | cbpe roc_auc | score | 0.61000 | 0.61020 | 0.00020 |")
        .contains("| nannyml | chi_squared / chi2 | origin | 1200.00000 | 1199.50000 | 0.50000 |");
  }

  @Test
  void rowCountsAreReadWithAnOptionalMillionSuffix() {
    assertThat(DriftPeersBenchmark.parseRows("1000000,3M,30m"))
        .containsExactly(1_000_000L, 3_000_000L, 30_000_000L);
  }
}
