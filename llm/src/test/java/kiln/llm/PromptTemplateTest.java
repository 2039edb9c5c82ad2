package kiln.llm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;

/**
 * Templates render strictly: every variable bound, no binding unused, values inserted literally.
 */
class PromptTemplateTest {

  @Test
  void rendersEveryOccurrenceAndKeepsDollarsAndBackslashes() {
    PromptTemplate t = new PromptTemplate("Classify: {{text}}\nAgain: {{ text }}");
    assertThat(t.variables()).containsExactly("text");
    assertThat(t.render(Map.of("text", "costs $5 \\o/")))
        .isEqualTo("Classify: costs $5 \\o/\nAgain: costs $5 \\o/");
  }

  @Test
  void aVariableTheJobDoesNotBindIsAnErrorBeforeAnyToken() {
    PromptTemplate t = new PromptTemplate("{{subject}}: {{text}}");
    assertThatThrownBy(() -> t.checkBindings(List.of("text"), "prompt p/1"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(
            "prompt p/1 uses variable {{subject}} that the job does not bind; it binds {{text}}");
    assertThatThrownBy(
            () -> new PromptTemplate("no variables").checkBindings(List.of("text"), "prompt p/2"))
        .hasMessageContaining("does not use {{text}}; its variables are nothing");
    assertThatThrownBy(() -> new PromptTemplate("{{bad name}}"))
        .hasMessageContaining("is not a valid name");
    assertThatThrownBy(() -> t.render(Map.of("text", "x")))
        .hasMessageContaining("no value for prompt variable {{subject}}");
  }

  @Test
  void theHashIsTheSha256OfTheUtf8Text() {
    assertThat(PromptTemplate.sha256("abc"))
        .isEqualTo("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  }
}
