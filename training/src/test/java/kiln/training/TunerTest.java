package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TunerTest {

  @Test
  void gridTriesEveryCombinationOverTheFixedValues() {
    TuningConfig grid =
        new TuningConfig(
            TuningConfig.Strategy.GRID,
            null,
            Map.of("max_depth", List.of(3, 6), "eta", List.of(0.1, 0.3)));
    List<Map<String, Object>> sets = Tuner.candidates(Map.of("subsample", 0.8), grid, 1);
    assertThat(sets)
        .hasSize(4)
        .allSatisfy(
            s -> assertThat(s).containsEntry("subsample", 0.8).containsKeys("max_depth", "eta"));
    assertThat(sets)
        .extracting(s -> s.get("max_depth") + "/" + s.get("eta"))
        .containsExactlyInAnyOrder("3/0.1", "3/0.3", "6/0.1", "6/0.3");
  }

  @Test
  void randomDrawsWithinRangesAndRepeatsForTheSameSeed() {
    TuningConfig random =
        new TuningConfig(
            null,
            20,
            Map.of(
                "max_depth", Map.of("min", 2, "max", 8, "integer", true),
                "eta", Map.of("min", 0.01, "max", 0.3, "log", true),
                "tree_method", List.of("hist", "approx")));
    List<Map<String, Object>> sets = Tuner.candidates(Map.of(), random, 42);
    assertThat(sets)
        .hasSize(20)
        .allSatisfy(
            s -> {
              assertThat((Integer) s.get("max_depth")).isBetween(2, 8);
              assertThat((Double) s.get("eta")).isBetween(0.01, 0.3);
              assertThat(s.get("tree_method")).isIn("hist", "approx");
            });
    assertThat(Tuner.candidates(Map.of(), random, 42)).isEqualTo(sets);
    assertThat(sets.stream().map(s -> s.get("max_depth")).distinct().count()).isGreaterThan(2);
  }

  @Test
  void refusesSpacesThatCannotBeSearched() {
    assertThatThrownBy(
            () ->
                new TuningConfig(
                    TuningConfig.Strategy.GRID,
                    null,
                    Map.of("eta", Map.of("min", 0.1, "max", 0.2))))
        .hasMessageContaining("grid search needs a list of values for 'eta'");
    assertThatThrownBy(
            () -> new TuningConfig(null, null, Map.of("eta", Map.of("min", 0.3, "max", 0.2))))
        .hasMessageContaining("min above max");
    assertThatThrownBy(() -> new TuningConfig(null, 0, Map.of("eta", List.of(0.1))))
        .hasMessageContaining("at least 1");
  }
}
