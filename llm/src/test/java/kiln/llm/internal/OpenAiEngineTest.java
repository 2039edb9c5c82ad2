package kiln.llm.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Optional;
import kiln.llm.EngineConfig;
import kiln.llm.EngineType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The OpenAI-compatible engine against a chat-completions server on loopback that misbehaves on
 * request.
 */
class OpenAiEngineTest {
  static kiln.llm.FakeOpenAiAccess server;

  @BeforeAll
  static void start() throws Exception {
    server = new kiln.llm.FakeOpenAiAccess();
  }

  @AfterAll
  static void stop() {
    server.close();
  }

  private static EngineConfig config(int timeoutSeconds, int attempts, int concurrency) {
    return EngineConfig.builder()
        .type(EngineType.OPENAI)
        .model("test-model")
        .temperature(0.0)
        .maxTokens(16)
        .seed(1L)
        .baseUrl(server.baseUrl())
        .timeoutSeconds(timeoutSeconds)
        .maxAttempts(attempts)
        .backoffMillis(10)
        .concurrency(concurrency)
        .build();
  }

  @Test
  void anAnswerCarriesTheCompletionTokensFromUsageAndTheFinishReason() {
    try (OpenAiEngine engine = new OpenAiEngine(config(5, 3, 2), "sk-test")) {
      Completion c = engine.complete(List.of("say hello to the world")).get(0);
      assertThat(c.error()).isNull();
      assertThat(c.text()).isEqualTo("echo: say hello to the world");
      assertThat(c.promptTokens()).isEqualTo(5);
      assertThat(c.completionTokens()).isEqualTo(3);
      assertThat(c.finishReason()).isEqualTo("stop");
      assertThat(c.attempts()).isEqualTo(1);
      assertThat(server.authorizations()).contains("Bearer sk-test");
    }
  }

  @Test
  void rateLimitsAndServerErrorsAreRetriedUntilTheyPass() {
    try (OpenAiEngine engine = new OpenAiEngine(config(5, 4, 2), null)) {
      List<Completion> answers = engine.complete(List.of("a [429x2]", "b [500x3]"));
      assertThat(answers).extracting(Completion::error).containsOnlyNulls();
      assertThat(answers).extracting(Completion::attempts).containsExactly(3, 4);
    }
  }

  @Test
  void failuresBecomeRowErrorsNeverExceptions() {
    try (OpenAiEngine engine = new OpenAiEngine(config(1, 2, 4), null)) {
      List<Completion> answers =
          engine.complete(List.of("x [500]", "y [slow]", "z [malformed]", "w [nochoices]", "fine"));
      assertThat(answers.get(0).error()).isEqualTo("HTTP 500: overloaded (after 2 attempts)");
      assertThat(answers.get(1).error()).isEqualTo("no answer within 1 s (after 2 attempts)");
      assertThat(answers.get(2).error()).startsWith("malformed response: not JSON");
      assertThat(answers.get(2).attempts()).isEqualTo(1);
      assertThat(answers.get(3).error())
          .isEqualTo("malformed response: no choices[0].message.content");
      assertThat(answers.get(4).error()).isNull();
      assertThat(answers.subList(0, 4)).extracting(Completion::text).containsOnlyNulls();
      assertThat(engine.complete(java.util.Arrays.asList((String) null)).get(0).error())
          .isEqualTo(Completion.NO_TEXT);
    }
  }

  @Test
  void concurrencyIsBounded() throws Exception {
    // a server of its own: timed-out requests of other tests stay in flight on the shared one
    try (kiln.llm.FakeOpenAiAccess own = new kiln.llm.FakeOpenAiAccess();
        OpenAiEngine engine =
            new OpenAiEngine(
                EngineConfig.builder()
                    .type(EngineType.OPENAI)
                    .model("m")
                    .temperature(0.0)
                    .maxTokens(16)
                    .baseUrl(own.baseUrl())
                    .timeoutSeconds(10)
                    .maxAttempts(1)
                    .backoffMillis(10)
                    .concurrency(3)
                    .build(),
                null)) {
      List<String> prompts =
          java.util.stream.IntStream.range(0, 9).mapToObj(i -> "row " + i + " [slow]").toList();
      assertThat(engine.complete(prompts)).extracting(Completion::error).containsOnlyNulls();
      assertThat(own.maxInFlight()).isEqualTo(3);
    }
  }

  @Test
  void retryAfterIsReadInSecondsOrAsADate() {
    assertThat(OpenAiEngine.retryAfterMillis(Optional.of("2"))).isEqualTo(2000);
    assertThat(OpenAiEngine.retryAfterMillis(Optional.empty())).isEqualTo(-1);
    assertThat(OpenAiEngine.retryAfterMillis(Optional.of("soon"))).isEqualTo(-1);
  }
}
