package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local engine on a tiny random-weight GGUF written by Kiln: the real llama.cpp loading and
 * decoding path.
 */
class LocalEngineTest {
  @TempDir static Path dir;
  static Path model;

  @BeforeAll
  static void writeModel() throws Exception {
    model = dir.resolve("tiny.gguf");
    TinyGguf.write(model, 7);
    System.setProperty("kiln.llm.ignoreEos", "true");
  }

  private static EngineConfig local(int contextSize, int slots, int maxTokens) {
    return EngineConfig.builder()
        .type(EngineType.LOCAL)
        .temperature(0.0)
        .maxTokens(maxTokens)
        .seed(1L)
        .modelPath(model.toString())
        .contextSize(contextSize)
        .slots(slots)
        .build();
  }

  @Test
  void theSameWriterGivesTheSameBytes() throws Exception {
    Path again = dir.resolve("again.gguf");
    TinyGguf.write(again, 7);
    assertThat(again).hasSameBinaryContentAs(model);
  }

  @Test
  void oneSlotAtTemperatureZeroIsDeterministicAndCountsTokens() {
    Engine engine = Engines.open(local(512, 1, 8));
    List<String> prompts = List.of("classify this mail: win money", "is this spam? hello");
    List<Completion> first = engine.complete(prompts);
    List<Completion> second = engine.complete(prompts);
    assertThat(first).extracting(Completion::error).containsOnlyNulls();
    assertThat(first)
        .extracting(Completion::text)
        .isEqualTo(second.stream().map(Completion::text).toList());
    assertThat(first.get(0).text()).isNotEmpty();
    assertThat(first.get(0).completionTokens()).isPositive();
    assertThat(first.get(0).promptTokens()).isGreaterThan(3);
    assertThat(first.get(0).attempts()).isEqualTo(1);
  }

  @Test
  void completionTokensAreTheTokensGeneratedAndNeverMoreThanMaxTokens() {
    // ignoreEos: every row generates until maxTokens; re-encoding the gibberish text could count
    // more tokens than were generated
    Engine engine = Engines.open(local(512, 1, 6));
    List<String> prompts = new java.util.ArrayList<>();
    for (int i = 0; i < 12; i++) {
      prompts.add("mail " + i + ": cheap pills, act now " + "!".repeat(i));
    }
    List<Completion> answers = engine.complete(prompts);
    assertThat(answers).extracting(Completion::error).containsOnlyNulls();
    assertThat(answers)
        .extracting(Completion::completionTokens)
        .allSatisfy(n -> assertThat(n).isBetween(1, 6));
    // a token ending inside a multi-byte character is sent with the next one; most rows have none
    assertThat(answers.stream().filter(c -> c.completionTokens() == 6).count())
        .isGreaterThanOrEqualTo(6);
    assertThat(answers)
        .filteredOn(c -> c.completionTokens() == 6)
        .extracting(Completion::finishReason)
        .containsOnly("length");
  }

  @Test
  void aJsonSchemasGrammarHoldsTheRandomModelToValidJson() {
    OutputSchema schema =
        OutputSchema.of(
            json(
                "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]},"
                    + "\"urgent\":{\"type\":\"boolean\"}},\"required\":[\"label\",\"urgent\"],"
                    + "\"additionalProperties\":false}"));
    List<String> prompts =
        List.of("win money now", "meeting at noon", "your invoice", "cheap pills", "lunch?");
    List<Completion> free = Engines.open(local(512, 1, 48)).complete(prompts);
    List<Completion> held =
        Engines.open(local(512, 1, 48), java.util.Optional.of(schema)).complete(prompts);
    // without the grammar the random weights write gibberish; with it, JSON the schema accepts
    assertThat(free).allSatisfy(c -> assertThat(schema.check(c.text())).isPresent());
    assertThat(held).extracting(Completion::error).containsOnlyNulls();
    assertThat(held)
        .allSatisfy(
            c -> {
              assertThat(schema.check(c.text())).as(c.text()).isEmpty();
              assertThat(c.completionTokens()).isBetween(1, 48);
            });
  }

  @Test
  void aJsonCompletionCutOffByMaxTokensIsMarkedInvalidWithItsReason() {
    OutputSchema schema =
        OutputSchema.of(
            json(
                "{\"type\":\"object\",\"properties\":{\"label\":{\"enum\":[\"spam\",\"ham\"]}},"
                    + "\"required\":[\"label\"]}"));
    Completion cut =
        Engines.open(local(512, 1, 3), java.util.Optional.of(schema))
            .complete(List.of("win money now"))
            .get(0);
    assertThat(cut.finishReason()).isEqualTo("length");
    Completion marked = LlmStage.validated(cut, schema);
    assertThat(marked.error())
        .startsWith(OutputSchema.INVALID + "not JSON")
        .endsWith("(the completion reached maxTokens)");
    assertThat(marked.text()).isEqualTo(cut.text());
  }

  private static com.fasterxml.jackson.databind.JsonNode json(String text) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readTree(text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void aPromptTooLongForItsSlotFailsAloneBeforeAnyRequest() {
    Engine engine = Engines.open(local(256, 2, 16));
    String longPrompt = "the ticket is spam and ham ".repeat(40);
    List<Completion> answers =
        engine.complete(List.of("short one", longPrompt, "another short one"));
    assertThat(answers.get(1).error())
        .contains("with maxTokens 16 it needs")
        .contains("more than 96 (75% of a slot's context: 256 / 2 slots)");
    assertThat(answers.get(1).attempts()).isZero();
    assertThat(answers.get(0).error()).isNull();
    assertThat(answers.get(2).error()).isNull();
  }
}
