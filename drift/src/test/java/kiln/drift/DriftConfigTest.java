package kiln.drift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The drift config: defaults pinned, YAML keys mapped, mistakes named with file and line. */
class DriftConfigTest {

  @Test
  void defaultsAreTheDocumentedOnes() {
    DriftConfig config = DriftConfig.defaults();
    assertThat(config.thresholds())
        .isEqualTo(
            new Thresholds(
                0.2, 0.05, Correction.NONE, 0.1, 0.5, null, null, null, null, true, 0.05, 0.55));
    assertThat(config.statistics())
        .containsExactly(
            Statistic.PSI,
            Statistic.KS,
            Statistic.WASSERSTEIN,
            Statistic.JENSEN_SHANNON,
            Statistic.HELLINGER,
            Statistic.CHI_SQUARED);
    assertThat(config.bins()).isEqualTo(10);
    assertThat(config.topCategories()).isEqualTo(50);
    assertThat(config.exactDistinctLimit()).isEqualTo(10_000);
    assertThat(config.sketchK()).isEqualTo(1_000);
    assertThat(config.features()).isNull();
  }

  @Test
  void yamlMapsEveryKey(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("drift.yaml");
    // every key, each with a value other than its default
    String yaml =
        """
        features: [delay, distance, origin]
        exclude: [date]
        categorical: [code]
        prediction: score
        label: delayed
        thresholds:
          psi: 0.25
          pValue: 0.01
          correction: fdr
          nullRate: 0.2
          driftShare: 0.3
          wassersteinNormalised: 0.15
          jensenShannon: 0.1
          hellinger: 0.12
          outOfRange: 0.02
          testsDecide: false
          performance: 0.1
          domainClassifierAuc: 0.6
        statistics: [psi, ks, domain_classifier]
        bins: 20
        topCategories: 10
        exactDistinctLimit: 5000
        sketchK: 200
        ranges: {delay: {min: -60, max: 1500}}
        profiles: /lake/drift/profiles
        history: /lake/drift/history
        """;
    Files.writeString(file, yaml);
    DriftConfig config = DriftConfig.read(file);
    assertThat(config)
        .isEqualTo(
            new DriftConfig(
                List.of("delay", "distance", "origin"),
                List.of("date"),
                List.of("code"),
                "score",
                "delayed",
                new Thresholds(
                    0.25, 0.01, Correction.FDR, 0.2, 0.3, 0.15, 0.1, 0.12, 0.02, false, 0.1, 0.6),
                List.of(Statistic.PSI, Statistic.KS, Statistic.DOMAIN_CLASSIFIER),
                20,
                10,
                5000,
                200,
                java.util.Map.of("delay", new Range(-60.0, 1500.0)),
                "/lake/drift/profiles",
                "/lake/drift/history"));
    // a key added to either record later must be added here too
    for (Class<?> type : List.of(DriftConfig.class, Thresholds.class)) {
      for (java.lang.reflect.RecordComponent component : type.getRecordComponents()) {
        assertThat(yaml)
            .as("the YAML sets %s.%s", type.getSimpleName(), component.getName())
            .containsPattern("(?m)^\\s*" + component.getName() + ":");
      }
    }
  }

  @Test
  void monthsAndPeriodsBecomeFiltersWithLabels() {
    kiln.core.DatasetRef flights = kiln.core.DatasetRef.parse("/data/flights@1");
    DriftInput april = DriftInput.month(flights, "date", java.time.YearMonth.of(2001, 4));
    assertThat(april.where()).isEqualTo("`date` >= '2001-04-01' AND `date` < '2001-05-01'");
    assertThat(april.label()).isEqualTo("2001-04");
    assertThat(DriftInput.of(flights).label()).isEqualTo("/data/flights@1");
    assertThat(DriftInput.of(flights).where("x > 1").label())
        .isEqualTo("/data/flights@1 where x > 1");
    assertThatThrownBy(
            () ->
                DriftInput.between(
                    flights,
                    "date",
                    java.time.LocalDate.of(2001, 4, 1),
                    java.time.LocalDate.of(2001, 4, 1),
                    "none"))
        .isInstanceOf(BadInputException.class)
        .hasMessageStartingWith("the period 2001-04-01 to 2001-04-01 is empty");
  }

  @Test
  void mistakesNameTheKeyTheValueAndTheLine(@TempDir Path dir) throws Exception {
    Path unknown = dir.resolve("unknown.yaml");
    Files.writeString(unknown, "features: [a]\nthreshold: {psi: 0.1}\n");
    assertThatThrownBy(() -> DriftConfig.read(unknown))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(unknown + ":2:1: unknown key 'threshold'");
    Path badP = dir.resolve("p.yaml");
    Files.writeString(badP, "thresholds:\n  pValue: 5\n");
    assertThatThrownBy(() -> DriftConfig.read(badP))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("pValue must be between 0 and 1 (exclusive), got 5.0");
    Path badStatistic = dir.resolve("s.yaml");
    Files.writeString(badStatistic, "statistics: [psi, entropy]\n");
    assertThatThrownBy(() -> DriftConfig.read(badStatistic))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("value 'entropy'")
        .hasMessageContaining("psi, ks, wasserstein");
    assertThatThrownBy(() -> DriftConfig.defaults().withColumns(List.of(), null, null))
        .hasMessageContaining("features is an empty list");
  }
}
