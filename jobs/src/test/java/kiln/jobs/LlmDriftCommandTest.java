package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
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
 * {@code kiln llm drift} with the real MiniLM embeddings: the same prompts in a copy of the table
 * do not drift; prompts on another topic, longer and with e-mail addresses, do, by every measure.
 */
@ExtendWith(SharedSpark.class)
class LlmDriftCommandTest {
  @TempDir static Path dir;

  @Test
  void theSamePromptsAreStableAndPromptsOnAnotherTopicDrift(SparkSession spark) throws Exception {
    String[] cities = {"Paris", "Oslo", "Lima", "Cairo", "Perth", "Quito", "Hanoi", "Dublin"};
    String[] weather = {"sunny", "rainy", "windy", "cold", "warm"};
    List<Row> weatherRows = new ArrayList<>();
    List<Row> invoiceRows = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      weatherRows.add(
          RowFactory.create(
              i,
              "What is the weather like in " + cities[i % 8] + "? It looks " + weather[i % 5],
              i % 2 == 0 ? "travel" : "smalltalk"));
      invoiceRows.add(
          RowFactory.create(
              i,
              "Please pay invoice number "
                  + (1000 + i)
                  + " of the quarterly maintenance contract before Friday and send the receipt to"
                  + " billing"
                  + i
                  + "@example.com",
              "billing"));
    }
    StructType schema =
        new StructType()
            .add("id", DataTypes.IntegerType)
            .add("prompt", DataTypes.StringType)
            .add("channel", DataTypes.StringType);
    Datasets datasets = new Datasets(spark);
    String before = dir.resolve("prompts-before").toString();
    String copy = dir.resolve("prompts-copy").toString();
    String after = dir.resolve("prompts-after").toString();
    datasets.write(
        spark.createDataFrame(weatherRows, schema), before, WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(
        spark.createDataFrame(weatherRows, schema), copy, WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(
        spark.createDataFrame(invoiceRows, schema), after, WriteOptions.of(WriteMode.OVERWRITE));
    ObjectMapper json = new ObjectMapper();
    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("mlflow"))
            .build()
            .start()) {
      Path settings = dir.resolve("kiln.yaml");
      Files.writeString(settings, "tracking:\n  uri: " + server.uri() + "\n");
      Path config = dir.resolve("drift.yaml");
      Files.writeString(config, "exclude: [id]\n");
      String[] common = {
        "--settings",
        settings.toString(),
        "--workdir",
        dir.resolve("work").toString(),
        "--config",
        config.toString(),
        "--text",
        "prompt",
        "--json"
      };

      KilnRun stable =
          kiln(
              concat(
                  new String[] {"llm", "drift", "--reference", before, "--current", copy}, common));
      assertThat(stable.exitCode()).as(stable.err()).isZero();
      JsonNode same = embedding(json.readTree(stable.out()));
      assertThat(same.path("verdict").asText()).isEqualTo("STABLE");
      assertThat(same.path("statistics").path("mean_embedding_p_value").asDouble()).isEqualTo(1.0);

      Path report = dir.resolve("report.html");
      KilnRun drifted =
          kiln(
              concat(
                  new String[] {
                    "llm",
                    "drift",
                    "--reference",
                    before,
                    "--current",
                    after,
                    "--report",
                    report.toString()
                  },
                  common));
      assertThat(drifted.exitCode()).as(drifted.err()).isEqualTo(1);
      JsonNode result = json.readTree(drifted.out()).path("result");
      JsonNode moved = embedding(json.readTree(drifted.out()));
      assertThat(moved.path("verdict").asText()).isEqualTo("DRIFTED");
      assertThat(moved.path("statistics").path("domain_classifier_auc").asDouble())
          .isGreaterThan(0.9);
      assertThat(moved.path("statistics").path("mean_embedding_p_value").asDouble())
          .isLessThan(0.01);
      assertThat(moved.path("histogram").path("labels")).hasSize(10);
      List<String> drift = new ArrayList<>();
      result
          .path("features")
          .forEach(f -> drift.add(f.path("name").asText() + "=" + f.path("verdict").asText()));
      assertThat(drift)
          .contains(
              "prompt_chars=DRIFTED",
              // no recorded token counts and no --tokenizer: words, named as words
              "prompt_words=DRIFTED",
              "prompt_pii_leak=DRIFTED",
              "channel=DRIFTED")
          .doesNotContain("prompt=DRIFTED", "prompt=STABLE")
          .noneMatch(f -> f.startsWith("prompt_tokens="));
      assertThat(
              json.readTree(drifted.out())
                  .path("lengthMeasures")
                  .path("text.prompt.length")
                  .asText())
          .isEqualTo("prompt_words");
      assertThat(Files.readString(report)).contains("prompt (embedding)", "domain classifier");
    }
  }

  private static JsonNode embedding(JsonNode outcome) {
    for (JsonNode f : outcome.path("result").path("features")) {
      if (f.path("name").asText().equals("prompt (embedding)")) {
        return f;
      }
    }
    throw new AssertionError("no embedding row in " + outcome);
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
