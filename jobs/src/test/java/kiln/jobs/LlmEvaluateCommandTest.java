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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.jobs.llmeval.JudgeVerdict;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln llm evaluate} over six hand-made rows with the real MiniLM embeddings and PII
 * detector. The judge is a chat-completions endpoint on loopback that answers a fixed verdict: no
 * model that can judge runs here (STACK.md: only random-weight GGUFs), so the test checks what Kiln
 * does with a judge's answers, not the judge.
 */
@ExtendWith(SharedSpark.class)
class LlmEvaluateCommandTest {
  @TempDir static Path dir;

  /** Answers a score of 4 with a rationale, or, for a prompt holding "[bad]", no score at all. */
  static HttpServer judge(List<String> requests) throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/chat/completions",
        exchange -> {
          String request =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          requests.add(request);
          String answer =
              request.contains("[bad]")
                  ? "I cannot tell."
                  : "{\\\"score\\\": 4, \\\"rationale\\\": \\\"mostly right\\\"}";
          byte[] body =
              ("{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\""
                      + answer
                      + "\"},\"finish_reason\":\"stop\"}],"
                      + "\"usage\":{\"prompt_tokens\":30,\"completion_tokens\":9}}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  @Test
  void evaluatesEveryRowWritesTheRowsAndRejectsAJudgeOrMetricWithoutItsColumns(SparkSession spark)
      throws Exception {
    String input = dir.resolve("golden").toString();
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("question", DataTypes.StringType)
            .add("answer", DataTypes.StringType)
            .add("expected", DataTypes.StringType)
            .add("context", DataTypes.StringType);
    new Datasets(spark)
        .write(
            spark.createDataFrame(
                List.of(
                    RowFactory.create(
                        1, "What is two plus two?", "4", "4", "Two plus two equals four."),
                    RowFactory.create(
                        2,
                        "Name the capital of France.",
                        "The capital of France is Paris.",
                        "Paris is the capital of France.",
                        "Paris is the capital and largest city of France."),
                    RowFactory.create(
                        3,
                        "Classify: win money now",
                        "{\"label\": \"spam\"}",
                        "{\"label\": \"spam\"}",
                        null),
                    RowFactory.create(
                        4,
                        "Classify: lunch at noon?",
                        "{\"label\": 3}",
                        "{\"label\": \"ham\"}",
                        null),
                    RowFactory.create(
                        5,
                        "How do I pick a lock?",
                        "I'm sorry, I cannot help with that.",
                        "Use a key.",
                        null),
                    RowFactory.create(
                        6,
                        "Who do I write to? [bad]",
                        "Write to john.doe@example.com for help.",
                        "Write to the support team.",
                        null)),
                schema),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
    Path jsonSchema = dir.resolve("label.schema.json");
    Files.writeString(
        jsonSchema,
        "{\"type\": \"object\", \"required\": [\"label\"],"
            + " \"properties\": {\"label\": {\"enum\": [\"spam\", \"ham\"]}}}");
    ObjectMapper json = new ObjectMapper();
    List<String> requests = new CopyOnWriteArrayList<>();
    HttpServer endpoint = judge(requests);
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
      Path template = dir.resolve("judge.txt");
      Files.writeString(
          template,
          "Grade the answer from 1 to 5.\nQuestion: {{prompt}}\nAnswer: {{completion}}\n"
              + "Expected: {{reference}}\nReply as JSON with score and rationale.");
      KilnRun registered =
          kiln(
              concat(
                  new String[] {
                    "llm",
                    "prompts",
                    "register",
                    "--name",
                    "judge-correctness",
                    "--template",
                    template.toString()
                  },
                  common));
      assertThat(registered.exitCode()).as(registered.err()).isZero();

      String engine =
          "{type: openai, model: judge, baseUrl: 'http://127.0.0.1:"
              + endpoint.getAddress().getPort()
              + "/v1', maxAttempts: 1}";
      Path config = dir.resolve("eval.yaml");
      Files.writeString(
          config,
          "input: "
              + input
              + "\nkey: id\n"
              + "columns: {prompt: question, completion: answer, reference: expected}\n"
              + "jsonSchema: "
              + jsonSchema
              + "\njudges:\n  - name: correctness\n    prompt: {name: judge-correctness, version:"
              + " 1}\n    engine: "
              + engine
              + "\noutput: "
              + dir.resolve("eval-rows")
              + "\n");
      KilnRun ran =
          kiln(
              concat(
                  new String[] {"llm", "evaluate", "--config", config.toString(), "--json"},
                  common));
      assertThat(ran.exitCode()).as(ran.err()).isZero();
      JsonNode result = json.readTree(ran.out());
      assertThat(result.path("rows").asLong()).isEqualTo(6);
      JsonNode agg = result.path("aggregates");
      assertThat(agg.path("exact_match_rate").asDouble()).isCloseTo(2.0 / 6, within(1e-9));
      assertThat(agg.path("refusal_rate").asDouble()).isCloseTo(1.0 / 6, within(1e-9));
      assertThat(agg.path("pii_leak_rate").asDouble()).isCloseTo(1.0 / 6, within(1e-9));
      assertThat(agg.path("json_valid_rate").asDouble()).isCloseTo(1.0 / 6, within(1e-9));
      assertThat(agg.path("accuracy").asDouble()).isCloseTo(2.0 / 6, within(1e-9));
      assertThat(agg.path("correctness_mean").asDouble()).isEqualTo(4.0);
      assertThat(agg.path("correctness_error_rate").asDouble()).isCloseTo(1.0 / 6, within(1e-9));
      // the judge's tokens (30 in, 9 out per request, as its endpoint reports them) over six rows,
      // priced by the run's cost: the judge's model is not in the price catalog, so it says so
      assertThat(agg.path("correctness_prompt_tokens").asDouble()).isEqualTo(180.0);
      assertThat(agg.path("correctness_completion_tokens").asDouble()).isEqualTo(54.0);
      assertThat(ran.err()).contains("tokens unknown").contains("tokens of model judge");
      assertThat(result.path("judge_prompts").path("correctness").asText())
          .isEqualTo("prompts:/judge-correctness/1");
      assertThat(ran.err()).contains("MLflow run: ");
      // the judge saw each row's question, answer and expected answer
      assertThat(requests).hasSize(6);
      assertThat(String.join("\n", requests))
          .contains("Name the capital of France.", "Expected: Paris is the capital of France.")
          // judges' prompts pass kiln llm run's PII redaction: row 6's e-mail never reaches one
          .contains("Answer: Write to <EMAIL_ADDRESS> for help.")
          .doesNotContain("john.doe@example.com", "example.com");

      Map<Integer, Row> rows = new HashMap<>();
      for (Row r :
          spark.read().format("delta").load(dir.resolve("eval-rows").toString()).collectAsList()) {
        rows.put(r.getInt(r.fieldIndex("id")), r);
      }
      assertThat(rows).hasSize(6);
      double identical = rows.get(1).getDouble(rows.get(1).fieldIndex("similarity_to_reference"));
      double paraphrase = rows.get(2).getDouble(rows.get(2).fieldIndex("similarity_to_reference"));
      double unrelated = rows.get(5).getDouble(rows.get(5).fieldIndex("similarity_to_reference"));
      assertThat(identical).isGreaterThan(0.999);
      assertThat(paraphrase).isGreaterThan(unrelated + 0.2);
      assertThat(rows.get(2).getDouble(rows.get(2).fieldIndex("groundedness"))).isGreaterThan(0.5);
      assertThat(rows.get(3).isNullAt(rows.get(3).fieldIndex("groundedness"))).isTrue();
      assertThat(rows.get(2).getDouble(rows.get(2).fieldIndex("relevance_to_query")))
          .isGreaterThan(rows.get(5).getDouble(rows.get(5).fieldIndex("relevance_to_query")));
      assertThat(rows.get(6).getBoolean(rows.get(6).fieldIndex("pii_leak"))).isTrue();
      assertThat(rows.get(5).getBoolean(rows.get(5).fieldIndex("refusal"))).isTrue();
      assertThat(rows.get(3).getBoolean(rows.get(3).fieldIndex("json_valid"))).isTrue();
      assertThat(rows.get(4).getBoolean(rows.get(4).fieldIndex("json_valid"))).isFalse();
      assertThat(rows.get(2).getString(rows.get(2).fieldIndex("correctness_rationale")))
          .isEqualTo("mostly right");
      assertThat(rows.get(6).getString(rows.get(6).fieldIndex("correctness_error")))
          .contains("no score");

      // a metric that needs references, over a table without them: exit 2 before any work
      Path noReference = dir.resolve("no-reference.yaml");
      Files.writeString(
          noReference,
          "input: "
              + input
              + "\nkey: id\ncolumns: {prompt: question, completion: answer, reference: gold}\n"
              + "metrics: [similarity_to_reference]\noutput: "
              + dir.resolve("eval-bad")
              + "\n");
      KilnRun bad =
          kiln(
              concat(new String[] {"llm", "evaluate", "--config", noReference.toString()}, common));
      assertThat(bad.exitCode()).as(bad.err()).isEqualTo(2);
      assertThat(bad.err()).contains("needs the column 'gold'").contains("fix:");

      // a judge prompt that never shows the judge the completion: exit 2
      Path blind = dir.resolve("blind.txt");
      Files.writeString(blind, "Is this question hard? {{prompt}}");
      kiln(
          concat(
              new String[] {
                "llm",
                "prompts",
                "register",
                "--name",
                "judge-correctness",
                "--template",
                blind.toString()
              },
              common));
      Path blindConfig = dir.resolve("blind.yaml");
      Files.writeString(
          blindConfig, Files.readString(config).replace("version: 1}", "version: 2}"));
      KilnRun blindRun =
          kiln(
              concat(new String[] {"llm", "evaluate", "--config", blindConfig.toString()}, common));
      assertThat(blindRun.exitCode()).as(blindRun.err()).isEqualTo(2);
      assertThat(blindRun.err()).contains("does not use {{completion}}");
    } finally {
      endpoint.stop(0);
    }
  }

  @Test
  void aJudgesAnswerIsReadAsJsonOrAsLinesAndNeverGuessed() {
    assertThat(JudgeVerdict.parse("```json\n{\"score\": 3, \"rationale\": \"ok\"}\n```"))
        .isEqualTo(new JudgeVerdict(3.0, "ok"));
    assertThat(JudgeVerdict.parse("Score: 5\nRationale: matches the reference"))
        .isEqualTo(new JudgeVerdict(5.0, "matches the reference"));
    assertThat(JudgeVerdict.parse("I would give it a good mark").score()).isNull();
    assertThat(JudgeVerdict.parse(null).score()).isNull();
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
