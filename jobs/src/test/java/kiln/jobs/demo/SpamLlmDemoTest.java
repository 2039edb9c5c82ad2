package kiln.jobs.demo;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.llm.PromptRegistry;
import kiln.llm.internal.OutputSchema;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo's LLM step on mails in the npm package's format (id, group, text per JSON file), written
 * here with real-looking headers: the local engine under the schema's grammar, a real tracking
 * server. The environment variable {@code KILN_TEST_SPAM_DIR=DIR} runs it on the real corpus
 * instead (to time it).
 */
@ExtendWith(SharedSpark.class)
class SpamLlmDemoTest {
  @TempDir static Path dir;

  private static Path mails() throws Exception {
    String real = System.getenv("KILN_TEST_SPAM_DIR");
    if (real != null && !real.isBlank()) {
      return Path.of(real);
    }
    Path data = dir.resolve("spam-assassin/data");
    for (String set : List.of("spam-1", "easy-ham-1")) {
      Files.createDirectories(data.resolve(set));
      for (int i = 1; i <= 12; i++) {
        String id = String.format("%05d", i);
        String text =
            "From: Jane Roe <jane.roe"
                + i
                + "@example.com>\\nReceived: from mail ([192.168.1."
                + i
                + "])\\nSubject: "
                + (set.startsWith("spam")
                    ? "WIN $$$ now, call +44 20 7946 0958"
                    : "lunch on friday?")
                + "\\n\\nHello, this is mail "
                + i;
        Files.writeString(
            data.resolve(set).resolve(id + ".abc.json"),
            "{\"id\":\"" + id + "\",\"group\":\"" + set + "\",\"text\":\"" + text + "\"}");
      }
      // the .txt twin the package also holds is not read
      Files.writeString(data.resolve(set).resolve("00001.abc.txt"), "raw");
    }
    return data;
  }

  @Test
  void twentyMailsAreRedactedAndClassifiedAsJsonOfTheSchemaIntoADeltaTable(SparkSession spark)
      throws Exception {
    Path data = mails();
    // where bin/kiln-spam-data unpacks them under KILN_DATA_DIR
    Path fetched = dir.resolve("fetched/spam-assassin/data");
    Files.createDirectories(fetched.resolve("spam-1"));
    Files.createDirectories(fetched.resolve("easy-ham-1"));
    assertThat(SpamLlmDemo.mails(Map.of("KILN_DATA_DIR", dir.resolve("fetched").toString())))
        .contains(fetched);
    assertThat(SpamLlmDemo.mails(Map.of("KILN_DATA_DIR", dir.resolve("none").toString())))
        .isEmpty();
    try (TrackingServer server =
            TrackingServer.builder()
                .host("127.0.0.1")
                .port(0)
                .storeDirectory(dir.resolve("store"))
                .build()
                .start();
        MlflowTracking tracking =
            MlflowTracking.connect(
                server.uri().toString(),
                Map.of(),
                dir.resolve("spool"),
                m -> {},
                2,
                Duration.ofMillis(10))) {
      PromptRegistry prompts = new PromptRegistry(tracking, Map.of());
      long started = System.nanoTime();
      SpamLlmDemo.Result result;
      try (TrackedRun run = tracking.startRun("demo-test", "llm", Map.of())) {
        result = SpamLlmDemo.run(spark, prompts, run, data, dir.resolve("demo"), m -> {});
      }
      System.out.printf(
          "[test] demo LLM step: %d mails in %.1f s, %d invalid, %d agreeing, %d+%d tokens%n",
          result.llm().rows(),
          (System.nanoTime() - started) / 1e9,
          result.llm().invalidOutputs(),
          result.agreeing(),
          result.llm().promptTokens(),
          result.llm().completionTokens());
      assertThat(result.llm().rows()).isEqualTo(2L * SpamLlmDemo.PER_SET);
      assertThat(result.llm().redactions()).containsKey("EMAIL_ADDRESS");
      OutputSchema schema =
          OutputSchema.of(
              new com.fasterxml.jackson.databind.ObjectMapper().readTree(SpamLlmDemo.SCHEMA));
      List<Row> rows =
          spark.read().format("delta").load(result.llm().output().table()).collectAsList();
      assertThat(rows).hasSize(2 * SpamLlmDemo.PER_SET);
      // never silently valid: a row is either JSON of the schema or carries its error
      for (Row row : rows) {
        String error = row.getAs("error");
        String completion = row.getAs("completion");
        if (error == null) {
          assertThat(schema.check(completion)).as(completion).isEmpty();
          assertThat(row.<Integer>getAs("completion_tokens")).isBetween(1, 24);
        } else {
          assertThat(error).startsWith(OutputSchema.INVALID);
        }
      }
      // the grammar holds the random weights to the schema: most rows finish their JSON
      assertThat(result.llm().invalidOutputs()).isLessThan(result.llm().rows() / 2);
      assertThat(result.llm().invalidOutputs()).isEqualTo(result.llm().errors());
      assertThat(result.agreeing()).isBetween(0L, result.llm().rows() - result.llm().errors());

      // a second demo keeps the prompt's version (same template)
      try (TrackedRun run = tracking.startRun("demo-test", "llm again", Map.of())) {
        SpamLlmDemo.run(spark, prompts, run, data, dir.resolve("demo2"), m -> {});
      }
      assertThat(prompts.versions(SpamLlmDemo.PROMPT)).hasSize(1);
    }
  }
}
