package kiln.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;

/**
 * The scoring config: {@code kiln score} builds it from its options (it has no YAML), so this pins
 * how each option's text maps to a field, the one optional field, and the messages for malformed
 * values.
 */
class ScoreConfigTest {

  @Test
  void everyOptionMapsToItsField() {
    ScoreConfig config =
        ScoreConfig.of(
            "models:/delays@champion", "/data/features@3", "/data/predictions", "models:/delays/2");
    assertThat(config.model().name()).isEqualTo("delays");
    assertThat(config.model().alias()).isEqualTo("champion");
    assertThat(config.model().version()).isNull();
    assertThat(config.data().table()).isEqualTo("/data/features");
    assertThat(config.data().version()).isEqualTo(3L);
    assertThat(config.output()).isEqualTo("/data/predictions");
    assertThat(config.shadow().name()).isEqualTo("delays");
    assertThat(config.shadow().version()).isEqualTo("2");
    assertThat(config.shadow().alias()).isNull();
  }

  @Test
  void theShadowIsOptionalAndTheDataVersionDefaultsToTheLatest() {
    ScoreConfig config =
        ScoreConfig.of("models:/delays/1", "/data/features", "/data/predictions", null);
    assertThat(config.shadow()).isNull();
    assertThat(config.data().version()).isNull();
    assertThat(config.data().timestamp()).isNull();
  }

  @Test
  void requiredFieldsAndMalformedValuesAreRefused() {
    assertThatThrownBy(() -> new ScoreConfig(null, null, null, null)).hasMessage("model is null");
    ScoreConfig valid =
        ScoreConfig.of("models:/delays/1", "/data/features", "/data/predictions", null);
    assertThatThrownBy(() -> new ScoreConfig(valid.model(), null, "/out", null))
        .hasMessage("data is null");
    assertThatThrownBy(() -> new ScoreConfig(valid.model(), valid.data(), null, null))
        .hasMessage("output is null");
    assertThatThrownBy(() -> ScoreConfig.of("delays@champion", "/data/features", "/out", null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "malformed model URI 'delays@champion': it does not start with models:/NAME");
    assertThatThrownBy(
            () -> ScoreConfig.of("models:/delays/1", "/data/features", "/out", "models:/delays/x"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("version 'x' is not a positive number");
    assertThatThrownBy(() -> ScoreConfig.of("models:/delays/1", "/data/features@", "/out", null))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("malformed dataset reference '/data/features@'");
  }
}
