package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

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
import kiln.core.KilnSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.cost.TokenUsage;
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
              + "price: {promptPer1k: 0.001, completionPer1k: 0.002}\n"
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
      assertThat(asGood.err())
          .contains(
              "PASS accuracy",
              "PASS cost_per_row: 0.00001200 vs champion 0.00001200 USD per row",
              "Cost per row, candidate: 0.00001200 USD");
      assertThat(alias(common, json)).isEqualTo("3");

      // a new model behind the prompt at ten times the price: the same answers and the same
      // tokens per row (the loopback model bills 10 + 1 a request), a higher cost per row
      Path newModel = dir.resolve("gate-new-model.yaml");
      Files.writeString(
          newModel,
          Files.readString(config).replace("criteria: {", "criteria: {maxTokensIncrease: 0.0, ")
              + "candidateEngine: {type: openai, model: triage-large, baseUrl: 'http://127.0.0.1:"
              + llm.getAddress().getPort()
              + "/v1', maxAttempts: 1}\n"
              + "candidatePrice: {promptPer1k: 0.01, completionPer1k: 0.02}\n");
      KilnRun pricier = gate("1", newModel, common);
      assertThat(pricier.exitCode()).as(pricier.err()).isEqualTo(1);
      JsonNode costly = json.readTree(pricier.out());
      assertThat(costly.path("currency").asText()).isEqualTo("USD");
      assertThat(costly.path("candidateMetrics").path("tokens_per_row").asDouble())
          .isEqualTo(costly.path("championMetrics").path("tokens_per_row").asDouble())
          .isEqualTo(11.0);
      assertThat(costly.path("candidateMetrics").path("cost_per_row").asDouble())
          .isCloseTo(1.2e-4, within(1e-12));
      assertThat(costly.path("championMetrics").path("cost_per_row").asDouble())
          .isCloseTo(1.2e-5, within(1e-12));
      assertThat(pricier.err())
          .contains(
              "PASS accuracy",
              "PASS tokens_per_row",
              "FAIL cost_per_row: 0.00012000 vs champion 0.00001200 USD per row");
      assertThat(alias(common, json)).isEqualTo("3");
    } finally {
      llm.stop(0);
    }
  }

  @Test
  void eachCriterionComparesTheCandidateWithTheChampion() {
    PromptGateConfig.Criteria criteria =
        new PromptGateConfig.Criteria(0.1, 0.0, 0.1, 0.5, 0.0, Map.of("accuracy", 0.0), null);
    Map<String, Double> champion =
        Map.of(
            "correctness_mean", 4.0,
            "json_valid_rate", 1.0,
            "cost_per_row", 0.001,
            "tokens_per_row", 100.0,
            "latency_ms_mean", 200.0,
            "error_rate", 0.0,
            "accuracy", 0.9);
    Map<String, Double> candidate =
        Map.of(
            "correctness_mean", 3.95,
            "json_valid_rate", 0.99,
            "cost_per_row", 0.00111,
            "tokens_per_row", 100.0,
            "latency_ms_mean", 290.0,
            "error_rate", 0.0,
            "accuracy", 0.9);
    List<GateResult.Criterion> result =
        criteria.compare(side(candidate), side(champion), List.of("correctness"));
    assertThat(result)
        .extracting(GateResult.Criterion::name, GateResult.Criterion::passed)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("correctness_mean", true),
            org.assertj.core.groups.Tuple.tuple("json_valid_rate", false),
            org.assertj.core.groups.Tuple.tuple("cost_per_row", false),
            org.assertj.core.groups.Tuple.tuple("latency_ms_mean", true),
            org.assertj.core.groups.Tuple.tuple("error_rate", true),
            org.assertj.core.groups.Tuple.tuple("accuracy", true));
    assertThat(result.get(2).detail()).contains("0.00111000 vs champion 0.00100000 USD per row");
  }

  /**
   * A new model behind the prompt: the same tokens per row at another price. Priced as the runs
   * price tokens (the built-in catalog: gpt-4o costs about 17 times gpt-4o-mini), cost per row
   * fails where tokens per row alone pass; the judge's tokens are priced in both sides' cost.
   */
  @Test
  void aNewModelBehindThePromptFailsOnCostWhereTokensAloneWouldPass() {
    KilnSettings settings = KilnSettings.defaults();
    List<TokenUsage> judge = List.of(new TokenUsage("gpt-4o-mini", 2500, 100));
    PromptGateConfig.Side champion =
        PromptGateCommand.priced(
            settings, 10, new TokenUsage("gpt-4o-mini", 1000, 100, false, null), judge);
    PromptGateConfig.Side candidate =
        PromptGateCommand.priced(
            settings, 10, new TokenUsage("gpt-4o", 1000, 100, false, null), judge);
    assertThat(candidate.metrics().get("tokens_per_row"))
        .isEqualTo(champion.metrics().get("tokens_per_row"))
        .isEqualTo(370.0);
    // catalog 2026-12-05: gpt-4o-mini 0.00015/0.0006, gpt-4o 0.0025/0.01 per 1k tokens
    assertThat(champion.metrics().get("engine_cost_per_row")).isCloseTo(2.1e-5, within(1e-12));
    assertThat(candidate.metrics().get("engine_cost_per_row")).isCloseTo(3.5e-4, within(1e-12));
    assertThat(champion.metrics().get("judge_cost_per_row")).isCloseTo(4.35e-5, within(1e-12));
    assertThat(candidate.metrics().get("cost_per_row")).isCloseTo(3.935e-4, within(1e-12));
    assertThat(champion.metrics().get("cost_per_row")).isCloseTo(6.45e-5, within(1e-12));
    assertThat(candidate.currency()).isEqualTo("USD");
    assertThat(candidate.costUnknown()).isEmpty();

    PromptGateConfig.Criteria criteria =
        new PromptGateConfig.Criteria(null, null, 0.1, 1000.0, null, null, 0.1);
    List<GateResult.Criterion> result = criteria.compare(candidate, champion, List.of());
    assertThat(result)
        .extracting(GateResult.Criterion::name, GateResult.Criterion::passed)
        .contains(
            org.assertj.core.groups.Tuple.tuple("cost_per_row", false),
            org.assertj.core.groups.Tuple.tuple("tokens_per_row", true));
  }

  /**
   * A model without a price: its side's cost is unknown (never 0), named with the reason; the cost
   * criterion fails unless the user's maxTokensIncrease lets tokens per row stand in.
   */
  @Test
  void anUnknownPriceFailsTheCostCriterionUnlessTokensPerRowMayStandIn() {
    KilnSettings settings = KilnSettings.defaults();
    PromptGateConfig.Side champion =
        PromptGateCommand.priced(
            settings, 10, new TokenUsage("gpt-4o-mini", 1000, 100, false, null), List.of());
    PromptGateConfig.Side candidate =
        PromptGateCommand.priced(
            settings, 10, new TokenUsage("my-finetune", 1000, 100, false, null), List.of());
    assertThat(candidate.metrics()).doesNotContainKey("cost_per_row");
    assertThat(candidate.costUnknown()).singleElement().asString().contains("my-finetune");

    List<GateResult.Criterion> strict =
        new PromptGateConfig.Criteria(null, null, null, 1000.0, null, null, null)
            .compare(candidate, champion, List.of());
    assertThat(strict).extracting(GateResult.Criterion::name).doesNotContain("tokens_per_row");
    GateResult.Criterion cost = strict.get(0);
    assertThat(cost.name()).isEqualTo("cost_per_row");
    assertThat(cost.passed()).isFalse();
    assertThat(cost.detail()).contains("unknown", "my-finetune", "maxTokensIncrease");

    List<GateResult.Criterion> fallback =
        new PromptGateConfig.Criteria(null, null, null, 1000.0, null, null, 0.0)
            .compare(candidate, champion, List.of());
    assertThat(fallback)
        .extracting(GateResult.Criterion::name, GateResult.Criterion::passed)
        .contains(
            org.assertj.core.groups.Tuple.tuple("cost_per_row", true),
            org.assertj.core.groups.Tuple.tuple("tokens_per_row", true));
    assertThat(fallback.get(0).detail()).contains("tokens_per_row stands in");

    // the fallback is tokens per row's own threshold: more tokens still fail it
    PromptGateConfig.Side longer =
        PromptGateCommand.priced(
            settings, 10, new TokenUsage("my-finetune", 1200, 100, false, null), List.of());
    assertThat(
            new PromptGateConfig.Criteria(null, null, null, 1000.0, null, null, 0.1)
                .compare(longer, champion, List.of()))
        .extracting(GateResult.Criterion::name, GateResult.Criterion::passed)
        .contains(org.assertj.core.groups.Tuple.tuple("tokens_per_row", false));
  }

  private static PromptGateConfig.Side side(Map<String, Double> metrics) {
    return new PromptGateConfig.Side(metrics, "USD", List.of());
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
