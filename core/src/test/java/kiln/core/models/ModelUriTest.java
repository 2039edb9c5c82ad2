package kiln.core.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;

class ModelUriTest {
  @Test
  void parsesModelUris() {
    assertThat(ModelUri.parse("models:/flight-delays@champion"))
        .isEqualTo(new ModelUri("flight-delays", "champion", null));
    assertThat(ModelUri.parse("models:/flight-delays/12"))
        .isEqualTo(new ModelUri("flight-delays", null, "12"));
    assertThat(ModelUri.parse("models:/a/3").toString()).isEqualTo("models:/a/3");
    assertThatThrownBy(() -> ModelUri.parse("models:/a/b/c")).isInstanceOf(BadInputException.class);
    assertThatThrownBy(() -> ModelUri.parse("models:/a/x"))
        .hasMessageContaining("version 'x' is not a positive number");
    assertThatThrownBy(() -> ModelUri.parse("models:/a@"))
        .hasMessageContaining("the alias after '@' is empty");
  }
}
