package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
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

/** {@code kiln pii redact} as a scheduler meets it: a run's JSON, its MLflow run, exit code 2. */
@ExtendWith(SharedSpark.class)
class PiiCommandTest {
  @TempDir static Path dir;

  @Test
  void redactWritesTheTableAndPrintsCountsAsJson(SparkSession spark) throws Exception {
    String input = dir.resolve("emails").toString();
    StructType schema =
        new StructType().add("id", DataTypes.IntegerType).add("body", DataTypes.StringType);
    new Datasets(spark)
        .write(
            spark.createDataFrame(
                List.of(
                    RowFactory.create(1, "write to a@b.io or call (212) 736-4512"),
                    RowFactory.create(2, "card 4111 1111 1111 1111"),
                    RowFactory.create(3, "lunch at noon?")),
                schema),
            input,
            WriteOptions.of(WriteMode.OVERWRITE));
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
      Path job = dir.resolve("redact.yaml");
      Files.writeString(
          job,
          "input: "
              + input
              + "\ncolumns: [body]\noutput: /nowhere\n"
              + "pii:\n  operators: {CREDIT_CARD: {type: mask, keep: 4}}\n");
      String output = dir.resolve("emails-redacted").toString();
      KilnRun ran =
          KilnRun.kiln(
              "pii",
              "redact",
              "--config",
              job.toString(),
              "--output",
              output,
              "--json",
              "--settings",
              settings.toString(),
              "--workdir",
              dir.resolve("work").toString());
      assertThat(ran.exitCode()).as(ran.err()).isZero();
      JsonNode result = json.readTree(ran.out());
      assertThat(result.path("rows").asLong()).isEqualTo(3);
      assertThat(result.path("rows_with_pii").asLong()).isEqualTo(2);
      assertThat(result.path("redactions").path("EMAIL_ADDRESS").asLong()).isEqualTo(1);
      assertThat(result.path("redactions").path("PHONE_NUMBER").asLong()).isEqualTo(1);
      assertThat(result.path("redactions").path("CREDIT_CARD").asLong()).isEqualTo(1);
      assertThat(ran.err()).contains("MLflow run: ").doesNotContain("a@b.io", "4111");
      List<Row> rows = spark.read().format("delta").load(output).orderBy("id").collectAsList();
      assertThat(rows.get(0).<String>getAs("body"))
          .isEqualTo("write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>");
      assertThat(rows.get(1).<String>getAs("body")).isEqualTo("card **** **** **** 1111");

      KilnRun bad =
          KilnRun.kiln(
              "pii",
              "redact",
              "--input",
              input,
              "--columns",
              "body,sender",
              "--output",
              dir.resolve("never").toString(),
              "--settings",
              settings.toString(),
              "--workdir",
              dir.resolve("work").toString());
      assertThat(bad.exitCode()).isEqualTo(2);
      assertThat(bad.err()).contains("sender");
      assertThat(new Datasets(spark).exists(dir.resolve("never").toString())).isFalse();
    }
  }
}
