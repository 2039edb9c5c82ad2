package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import kiln.core.BadInputException;
import org.junit.jupiter.api.Test;

/** A job's JSON schema: refused when it is no schema; completions checked, reasons without text. */
class OutputSchemaTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static JsonNode json(String text) throws Exception {
    return JSON.readTree(text);
  }

  private static OutputSchema label() throws Exception {
    return OutputSchema.of(
        json(
            "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                + "\"score\":{\"type\":\"number\",\"minimum\":0,\"maximum\":1}},"
                + "\"required\":[\"label\"],\"additionalProperties\":false}"));
  }

  @Test
  void aValidCompletionPassesAndEveryKindOfInvalidOneGivesItsReason() throws Exception {
    OutputSchema schema = label();
    assertThat(schema.check("{\"label\": \"spam\", \"score\": 0.9}")).isEmpty();
    assertThat(schema.check(" {\"label\":\"ham\"}\n")).isEmpty();
    assertThat(schema.check("The mail is spam.")).hasValueSatisfying(r -> r.startsWith("not JSON"));
    assertThat(schema.check("{\"label\": \"sp")).hasValueSatisfying(r -> r.startsWith("not JSON"));
    // a second value after the object is not one JSON document
    assertThat(schema.check("{\"label\":\"ham\"} {\"label\":\"spam\"}"))
        .hasValueSatisfying(r -> r.startsWith("not JSON"));
    assertThat(schema.check("")).isPresent();
    assertThat(schema.check("{\"label\": \"eggs\"}"))
        .hasValueSatisfying(r -> assertThat(r).contains("label").contains("enum"));
    assertThat(schema.check("{\"score\": 0.5}"))
        .hasValueSatisfying(r -> assertThat(r).contains("required").contains("label"));
    assertThat(schema.check("{\"label\": \"ham\", \"score\": 7}"))
        .hasValueSatisfying(r -> assertThat(r).contains("score").contains("1"));
    assertThat(schema.check("[\"spam\"]"))
        .hasValueSatisfying(r -> assertThat(r).contains("object"));
  }

  @Test
  void theReasonNeverRepeatsTheCompletionsText() throws Exception {
    OutputSchema schema = label();
    String secret = "jane.doe@example.com";
    assertThat(schema.check("mail " + secret))
        .hasValueSatisfying(r -> assertThat(r).doesNotContain(secret));
    assertThat(schema.check("{\"label\": \"" + secret + "\"}"))
        .hasValueSatisfying(r -> assertThat(r).doesNotContain(secret));
  }

  @Test
  void aSchemaThatIsNotOneIsBadInput() throws Exception {
    assertThatThrownBy(() -> OutputSchema.of(json("[1, 2]")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("jsonSchema must be a JSON schema object, got array");
    assertThatThrownBy(() -> OutputSchema.of(json("{\"type\": \"objekt\"}")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("jsonSchema is not a valid JSON schema");
    assertThatThrownBy(() -> OutputSchema.of(json("{\"required\": \"label\"}")))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("jsonSchema is not a valid JSON schema");
  }

  @Test
  void theSchemaTravelsAsItsTextAndComesBackTheSame() throws Exception {
    OutputSchema schema = label();
    OutputSchema back = OutputSchema.fromText(schema.text()).orElseThrow();
    assertThat(back.text()).isEqualTo(schema.text());
    assertThat(back.check("{\"label\": \"eggs\"}")).isPresent();
    assertThat(OutputSchema.fromText("")).isEmpty();
  }
}
