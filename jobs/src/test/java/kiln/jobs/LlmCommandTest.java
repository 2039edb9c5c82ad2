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
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln llm} as a scheduler meets it: prompts registered and shown, a run's JSON, exit codes
 * 0, 1 and 2.
 */
@ExtendWith(SharedSpark.class)
class LlmCommandTest {
  @TempDir static Path dir;

  /** A chat-completions endpoint that answers "spam" unless the prompt asks for a server error. */
  static HttpServer endpoint() throws Exception {
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext(
        "/v1/chat/completions",
        exchange -> {
          String request =
              new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
          boolean fail = request.contains("[500]");
          byte[] body =
              (fail
                      ? "{\"error\":{\"message\":\"down\"}}"
                      : "{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"spam\"},\"finish_reason\":\"stop\"}],"
                          + "\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":1}}")
                  .getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(fail ? 500 : 200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    return server;
  }

  @Test
  void promptsRegisterAndShowThenRunsExitZeroOneAndTwo(SparkSession spark) throws Exception {
    String input = dir.resolve("emails").toString();
    StructType schema =
        new StructType().add("id", DataTypes.IntegerType).add("body", DataTypes.StringType);
    new Datasets(spark)
        .write(
            spark.createDataFrame(
                List.of(
                    RowFactory.create(1, "win money, write to a@b.io"),
                    RowFactory.create(2, "lunch at noon?"),
                    RowFactory.create(3, "broken [500]")),
                schema),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
    ObjectMapper json = new ObjectMapper();
    HttpServer llm = endpoint();
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("mlflow"))
            .build()
            .start()) {
      Path settings = dir.resolve("kiln.yaml");
      Files.writeString(settings, "tracking:\n  uri: " + server.uri() + "\n");
      Path template = dir.resolve("spam.txt");
      Files.writeString(template, "Is this e-mail spam? Answer spam or ham.\n\n{{text}}");
      String[] common = {
        "--settings", settings.toString(), "--workdir", dir.resolve("work").toString()
      };

      KilnRun registered =
          kiln(
              concat(
                  new String[] {
                    "llm",
                    "prompts",
                    "register",
                    "--name",
                    "spam",
                    "--template",
                    template.toString(),
                    "--json"
                  },
                  common));
      assertThat(registered.exitCode()).as(registered.err()).isZero();
      assertThat(json.readTree(registered.out()).path("uri").asText()).isEqualTo("prompts:/spam/1");
      KilnRun shown = kiln(concat(new String[] {"llm", "prompts", "show", "spam/1"}, common));
      assertThat(shown.out()).contains("prompts:/spam/1", "Is this e-mail spam?");

      // kiln prompts (the name) is the same command: a second version, an alias, a list
      Path second = dir.resolve("spam-2.txt");
      Files.writeString(second, "Spam or ham? Answer in JSON.\n\n{{text}}");
      KilnRun again =
          kiln(
              concat(
                  new String[] {
                    "prompts", "register", "--name", "spam", "--template", second.toString()
                  },
                  common));
      assertThat(again.exitCode()).as(again.err()).isZero();
      assertThat(
              kiln(concat(new String[] {"prompts", "alias", "spam/2", "champion"}, common))
                  .exitCode())
          .isZero();
      KilnRun listed = kiln(concat(new String[] {"prompts", "list", "--json"}, common));
      assertThat(listed.exitCode()).as(listed.err()).isZero();
      JsonNode prompts = json.readTree(listed.out());
      assertThat(prompts).hasSize(1);
      assertThat(prompts.path(0).path("name").asText()).isEqualTo("spam");
      assertThat(prompts.path(0).path("aliases").path("champion").asText()).isEqualTo("2");
      assertThat(prompts.path(0).path("versions").findValuesAsText("version"))
          .containsExactly("1", "2");
      assertThat(prompts.path(0).path("versions").path(1).path("digest").asText())
          .isEqualTo("sha256:" + kiln.llm.PromptTemplate.sha256(Files.readString(second)));
      KilnRun text = kiln(concat(new String[] {"llm", "prompts", "list"}, common));
      assertThat(text.out())
          .contains("spam  2 versions  aliases {champion=2}")
          .containsPattern("prompts:/spam/2  sha256:[0-9a-f]{12}  variables \\[text]  @champion");

      Path job = dir.resolve("job.yaml");
      Files.writeString(
          job,
          "input: "
              + input
              + "\nkey: id\ntext: body\nprompt: {name: spam, version: 1}\n"
              + "engine: {type: openai, model: tiny, baseUrl: 'http://127.0.0.1:"
              + llm.getAddress().getPort()
              + "/v1',"
              + " maxAttempts: 1}\noutput: "
              + dir.resolve("labels")
              + "\nmaxErrorRate: 0.5\n");
      KilnRun ran =
          kiln(concat(new String[] {"llm", "run", "--config", job.toString(), "--json"}, common));
      assertThat(ran.exitCode()).as(ran.err()).isZero();
      JsonNode result = json.readTree(ran.out());
      assertThat(result.path("rows").asLong()).isEqualTo(3);
      assertThat(result.path("errors").asLong()).isEqualTo(1);
      assertThat(result.path("prompt_tokens").asLong()).isEqualTo(20);
      assertThat(result.path("redactions").path("EMAIL_ADDRESS").asLong()).isEqualTo(1);
      assertThat(result.path("prompt").asText()).isEqualTo("prompts:/spam/1");
      assertThat(ran.err()).contains("MLflow run: ").doesNotContain("a@b.io");

      Path strict = dir.resolve("strict.yaml");
      Files.writeString(
          strict,
          Files.readString(job)
              .replace("maxErrorRate: 0.5", "maxErrorRate: 0.1")
              .replace(dir.resolve("labels").toString(), dir.resolve("labels-strict").toString()));
      KilnRun failed =
          kiln(concat(new String[] {"llm", "run", "--config", strict.toString()}, common));
      assertThat(failed.exitCode()).as(failed.err()).isEqualTo(1);
      assertThat(failed.out()).contains("3 rows, 1 failed (33.33%, limit 10.00%)");

      Path missing = dir.resolve("missing.yaml");
      Files.writeString(missing, Files.readString(job).replace("version: 1", "version: 4"));
      KilnRun bad =
          kiln(concat(new String[] {"llm", "run", "--config", missing.toString()}, common));
      assertThat(bad.exitCode()).isEqualTo(2);
      assertThat(bad.err()).contains("prompt spam has no version 4; it has versions 1");
    } finally {
      llm.stop(0);
    }
  }

  /**
   * One token cost per run: the job's {@code price:} replaces the catalog's entry for its model,
   * and the summary, {@code --json} and MLflow's {@code cost.tokens} carry the same figure.
   */
  @Test
  void aRunWithAPriceAndACatalogEntryLogsThePricesTokenCostOnce(SparkSession spark)
      throws Exception {
    Path root = dir.resolve("priced");
    String input = root.resolve("emails").toString();
    StructType schema =
        new StructType().add("id", DataTypes.IntegerType).add("body", DataTypes.StringType);
    new Datasets(spark)
        .write(
            spark.createDataFrame(
                List.of(
                    RowFactory.create(1, "win money now"),
                    RowFactory.create(2, "lunch at noon?"),
                    RowFactory.create(3, "broken [500]")),
                schema),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
    // the catalog prices model tiny at 0.002 / 0.008 per 1,000 tokens; the job says 0.5 / 1.0
    Path catalog = root.resolve("prices.yaml");
    Files.writeString(
        catalog,
        "version: \"test-prices\"\ncurrency: USD\ncoreHour: 0.03\ngbHour: 0.004\n"
            + "storageGbMonth: 0.02\nspotDiscount: 0.5\n"
            + "tokens:\n  tiny: {prompt: 0.002, completion: 0.008}\n");
    ObjectMapper json = new ObjectMapper();
    HttpServer llm = endpoint();
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(root.resolve("mlflow"))
            .build()
            .start()) {
      Path settings = root.resolve("kiln.yaml");
      Files.writeString(settings, "tracking:\n  uri: " + server.uri() + "\n");
      Path template = root.resolve("spam.txt");
      Files.writeString(template, "Spam or ham?\n\n{{text}}");
      String[] common = {
        "--settings",
        settings.toString(),
        "--workdir",
        root.resolve("work").toString(),
        "--conf",
        "spark.kiln.cost.prices=" + catalog
      };
      assertThat(
              kiln(concat(
                      new String[] {
                        "prompts", "register", "--name", "priced", "--template", template.toString()
                      },
                      common))
                  .exitCode())
          .isZero();
      String job =
          "input: "
              + input
              + "\nkey: id\ntext: body\nprompt: {name: priced, version: 1}\n"
              + "engine: {type: openai, model: tiny, baseUrl: 'http://127.0.0.1:"
              + llm.getAddress().getPort()
              + "/v1', maxAttempts: 1}\nmaxErrorRate: 0.5\n";
      Path withPrice = root.resolve("with-price.yaml");
      Files.writeString(
          withPrice,
          job
              + "output: "
              + root.resolve("labels-priced")
              + "\nprice: {promptPer1k: 0.5, completionPer1k: 1.0}\n");
      KilnRun priced =
          kiln(
              concat(
                  new String[] {"llm", "run", "--config", withPrice.toString(), "--json"}, common));
      assertThat(priced.exitCode()).as(priced.err()).isZero();
      // two answered rows of 10 prompt and 1 completion tokens: 20 / 1000 x 0.5 + 2 / 1000 x 1.0
      double override = 20 / 1000.0 * 0.5 + 2 / 1000.0 * 1.0;
      JsonNode result = json.readTree(priced.out());
      assertThat(result.path("prompt_tokens").asLong()).isEqualTo(20);
      assertThat(result.path("completion_tokens").asLong()).isEqualTo(2);
      assertThat(result.path("cost").asDouble()).isEqualTo(override);
      assertThat(result.path("currency").asText()).isEqualTo("USD");
      assertThat(result.path("cost_source").asText()).isEqualTo("price");
      assertThat(priced.err())
          .contains(
              "token cost 0.012000 USD (the job's price: 0.5 USD per 1k prompt tokens, 1.0 per 1k"
                  + " completion tokens)")
          .contains("tokens 0.012000;");

      Path fromCatalog = root.resolve("catalog.yaml");
      Files.writeString(fromCatalog, job + "output: " + root.resolve("labels-catalog") + "\n");
      KilnRun catalogued =
          kiln(
              concat(
                  new String[] {"llm", "run", "--config", fromCatalog.toString(), "--json"},
                  common));
      assertThat(catalogued.exitCode()).as(catalogued.err()).isZero();
      double catalogCost = 20 / 1000.0 * 0.002 + 2 / 1000.0 * 0.008;
      JsonNode fromIt = json.readTree(catalogued.out());
      assertThat(fromIt.path("cost").asDouble()).isEqualTo(catalogCost);
      assertThat(fromIt.path("cost_source").asText()).isEqualTo("catalog");
      assertThat(catalogued.err()).contains("token cost 0.000056 USD (price catalog test-prices)");

      // MLflow: each run has one token cost, cost.tokens, and no second figure beside it
      var client = new org.mlflow.tracking.MlflowClient(server.uri().toString());
      String experimentId = client.getExperimentByName("kiln").orElseThrow().getExperimentId();
      java.util.Map<String, org.mlflow.api.proto.Service.Run> byOutput = new java.util.HashMap<>();
      for (var info : client.searchRuns(List.of(experimentId), "tags.`kiln.job` = 'llm'")) {
        var run = client.getRun(info.getRunId());
        run.getData().getParamsList().stream()
            .filter(p -> p.getKey().equals("output"))
            .forEach(p -> byOutput.put(p.getValue(), run));
      }
      var pricedRun = byOutput.get(root.resolve("labels-priced").toString());
      assertThat(pricedRun.getData().getMetricsList())
          .filteredOn(m -> m.getKey().equals("cost.tokens"))
          .extracting(m -> m.getValue())
          .containsExactly(override);
      assertThat(pricedRun.getData().getMetricsList())
          .extracting(m -> m.getKey())
          .doesNotContain("cost");
      assertThat(pricedRun.getData().getTagsList())
          .filteredOn(t -> t.getKey().equals("cost.tokens_price"))
          .extracting(t -> t.getValue())
          .containsExactly(
              "tiny: 0.5 USD per 1k prompt tokens, 1.0 per 1k completion tokens (the job's"
                  + " price:)");
      assertThat(byOutput.get(root.resolve("labels-catalog").toString()).getData().getMetricsList())
          .filteredOn(m -> m.getKey().equals("cost.tokens"))
          .extracting(m -> m.getValue())
          .containsExactly(catalogCost);

      // a price in another currency than the catalog's: exit 2 before anything runs
      Path euros = root.resolve("euros.yaml");
      Files.writeString(
          euros,
          job
              + "output: "
              + root.resolve("labels-euros")
              + "\nprice: {promptPer1k: 0.5, completionPer1k: 1.0, currency: EUR}\n");
      KilnRun refused =
          kiln(concat(new String[] {"llm", "run", "--config", euros.toString()}, common));
      assertThat(refused.exitCode()).as(refused.err()).isEqualTo(2);
      assertThat(refused.err())
          .contains(
              "price.currency EUR is not the price catalog's currency USD (catalog test-prices)")
          .contains("fix: give the job's price in USD");
      assertThat(Files.exists(root.resolve("labels-euros"))).isFalse();

      // engine.runtime spark-nlp where Spark NLP's AutoGGUFModel binding is absent (here): exit 2
      // naming the binding to add, nothing written
      Path gguf = KilnSession.writeTinyLocalModel(root.resolve("tiny.gguf"), 7);
      Path sparkNlp = root.resolve("spark-nlp.yaml");
      Files.writeString(
          sparkNlp,
          "input: "
              + input
              + "\nkey: id\ntext: body\nprompt: {name: priced, version: 1}\n"
              + "engine: {type: local, modelPath: '"
              + gguf
              + "', runtime: spark-nlp}\noutput: "
              + root.resolve("labels-spark-nlp")
              + "\n");
      KilnRun noBinding =
          kiln(concat(new String[] {"llm", "run", "--config", sparkNlp.toString()}, common));
      assertThat(noBinding.exitCode()).as(noBinding.err()).isEqualTo(2);
      assertThat(noBinding.err())
          .contains("engine.runtime is spark-nlp, but Spark NLP's AutoGGUFModel cannot run here")
          .contains("jsl-llamacpp-cpu_2.12");
      assertThat(Files.exists(root.resolve("labels-spark-nlp"))).isFalse();
    } finally {
      llm.stop(0);
    }
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
