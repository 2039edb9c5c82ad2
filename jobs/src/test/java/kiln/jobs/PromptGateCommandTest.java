package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.jobs.llmeval.PromptGateConfig;
import kiln.tracking.server.TrackingServer;
import kiln.training.GateResult;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln llm prompts gate}: a first version takes the alias, a worse one is refused (exit 1,
 * the alias stays), an as-good one takes it. The model is a chat-completions endpoint on loopback
 * whose answers depend on the prompt (no model that follows instructions runs here: STACK.md).
 */
@ExtendWith(SharedSpark.class)
class PromptGateCommandTest {
  @TempDir static Path dir;

  /** Labels a mail right when asked to "Label" it (money is spam), else refuses. */
  static HttpServer model() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/chat/completions",
        exchange -> {
          String request =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          String answer =
              !request.contains("Label")
                  ? "I'm sorry, I cannot help with that."
                  : request.contains("money") ? "spam" : "ham";
          byte[] body =
              ("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\""
                      + answer
                      + "\"},\"finish_reason\":\"stop\"}],"
                      + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1}}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  @Test
  void aFirstVersionPassesAWorseOneIsRefusedAndAnAsGoodOneTakesTheAlias(SparkSession spark)
      throws Exception {
    String golden = dir.resolve("golden").toString();
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("body", DataTypes.StringType)
            .add("label", DataTypes.StringType);
    new Datasets(spark)
        .write(
            spark.createDataFrame(
                List.of(
                    RowFactory.create(1, "win money now", "spam"),
                    RowFactory.create(2, "lunch at noon?", "ham"),
                    RowFactory.create(3, "free money inside", "spam"),
                    RowFactory.create(4, "the meeting moved to Monday", "ham")),
                schema),
            golden,
            WriteOptions.of(WriteMode.OVERWRITE));
    ObjectMapper json = new ObjectMapper();
    HttpServer llm = model();
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("mlflow"))
            .build()
            .start()) {
      Path settings = dir.resolve("kiln.yaml");
      Files.writeString(settings, "tracking:\n  uri: " + server.uri() + "\n");
      String[] common = {
        "--settings", settings.toString(), "--workdir", dir.resolve("work").toString()
      };
      String[] templates = {
        "Label this mail as spam or ham: {{text}}",
        "Say something about {{text}}",
        "Label the mail below, spam or ham.\n{{text}}"
      };
      for (int i = 0; i < templates.length; i++) {
        Path template = dir.resolve("t" + i + ".txt");
        Files.writeString(template, templates[i]);
        KilnRun registered =
            kiln(
                concat(
                    new String[] {
                      "llm",
                      "prompts",
                      "register",
                      "--name",
                      "triage",
                      "--template",
                      template.toString()
                    },
                    common));
        assertThat(registered.exitCode()).as(registered.err()).isZero();
      }
      Path config = dir.resolve("gate.yaml");
      Files.writeString(
          config,
          "goldenSet: "
              + golden
              + "\nkey: id\ntext: body\nreference: label\n"
              + "engine: {type: openai, model: triage, baseUrl: 'http://127.0.0.1:"
              + llm.getAddress().getPort()
              + "/v1', maxAttempts: 1}\n"
              + "metrics: [exact_match, classification, refusal]\n"
              // loopback latencies of a few ms vary by more than any sane limit: checked in the
              // unit test below instead
              + "criteria: {maxLatencyIncrease: 1000, maxDrop: {accuracy: 0.0}}\n");

      KilnRun first = gate("1", config, common);
      assertThat(first.exitCode()).as(first.err()).isZero();
      assertThat(json.readTree(first.out()).path("promoted").asBoolean()).isTrue();
      assertThat(alias(common, json)).isEqualTo("1");

      KilnRun worse = gate("2", config, common);
      assertThat(worse.exitCode()).as(worse.err()).isEqualTo(1);
      JsonNode refused = json.readTree(worse.out());
      assertThat(refused.path("promoted").asBoolean()).isFalse();
      assertThat(refused.path("champion").asText()).isEqualTo("1");
      assertThat(refused.path("candidateMetrics").path("accuracy").asDouble()).isZero();
      assertThat(refused.path("championMetrics").path("accuracy").asDouble()).isEqualTo(1.0);
      assertThat(worse.err()).contains("FAIL accuracy", "failed criteria");
      assertThat(alias(common, json)).isEqualTo("1");

      KilnRun asGood = gate("3", config, common);
      assertThat(asGood.exitCode()).as(asGood.err()).isZero();
      assertThat(asGood.err()).contains("PASS accuracy", "PASS tokens_per_row");
      assertThat(alias(common, json)).isEqualTo("3");
    } finally {
      llm.stop(0);
    }
  }

  @Test
  void eachCriterionComparesTheCandidateWithTheChampion() {
    PromptGateConfig.Criteria criteria =
        new PromptGateConfig.Criteria(0.1, 0.0, 0.1, 0.5, 0.0, Map.of("accuracy", 0.0));
    Map<String, Double> champion =
        Map.of(
            "correctness_mean", 4.0,
            "json_valid_rate", 1.0,
            "tokens_per_row", 100.0,
            "latency_ms_mean", 200.0,
            "error_rate", 0.0,
            "accuracy", 0.9);
    Map<String, Double> candidate =
        Map.of(
            "correctness_mean", 3.95,
            "json_valid_rate", 0.99,
            "tokens_per_row", 111.0,
            "latency_ms_mean", 290.0,
            "error_rate", 0.0,
            "accuracy", 0.9);
    List<GateResult.Criterion> result =
        criteria.compare(candidate, champion, List.of("correctness"));
    assertThat(result)
        .extracting(GateResult.Criterion::name, GateResult.Criterion::passed)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("correctness_mean", true),
            org.assertj.core.groups.Tuple.tuple("json_valid_rate", false),
            org.assertj.core.groups.Tuple.tuple("tokens_per_row", false),
            org.assertj.core.groups.Tuple.tuple("latency_ms_mean", true),
            org.assertj.core.groups.Tuple.tuple("error_rate", true),
            org.assertj.core.groups.Tuple.tuple("accuracy", true));
  }

  private static KilnRun gate(String version, Path config, String[] common) {
    return kiln(
        concat(
            new String[] {
              "llm",
              "prompts",
              "gate",
              "--prompt",
              "triage/" + version,
              "--config",
              config.toString(),
              "--json"
            },
            common));
  }

  private static String alias(String[] common, ObjectMapper json) throws Exception {
    KilnRun shown =
        kiln(
            concat(new String[] {"llm", "prompts", "show", "triage@production", "--json"}, common));
    assertThat(shown.exitCode()).as(shown.err()).isZero();
    return json.readTree(shown.out()).path("version").asText();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
