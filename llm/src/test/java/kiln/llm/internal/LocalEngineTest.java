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
    return new EngineConfig(
        EngineType.LOCAL,
        null,
        0.0,
        maxTokens,
        1L,
        null,
        null,
        null,
        null,
        null,
        null,
        model.toString(),
        contextSize,
        slots,
        null);
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
