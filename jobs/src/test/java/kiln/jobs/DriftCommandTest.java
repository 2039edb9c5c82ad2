package kiln.jobs;

import static kiln.jobs.KilnRun.kiln;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
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
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code kiln drift} as a scheduler meets it: exit codes, output, report, history, an MLflow run.
 */
@ExtendWith(SharedSpark.class)
class DriftCommandTest {
  @TempDir static Path dir;
  static String reference;
  static String current;

  @BeforeAll
  static void tables(SparkSession spark) {
    StructType schema =
        new StructType()
            .add("delay", DataTypes.LongType)
            .add("origin", DataTypes.StringType)
            .add("score", DataTypes.DoubleType);
    List<Row> r = new ArrayList<>();
    List<Row> c = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      r.add(RowFactory.create((long) (i % 60), i % 3 == 0 ? "SFO" : "JFK", (i % 10) / 10.0));
      c.add(RowFactory.create((long) (i % 60) + 25, i % 2 == 0 ? "SFO" : "LAX", (i % 10) / 10.0));
    }
    reference = dir.resolve("reference").toString();
    current = dir.resolve("current").toString();
    new Datasets(spark)
        .write(spark.createDataFrame(r, schema), reference, WriteOptions.of(WriteMode.OVERWRITE));
    new Datasets(spark)
        .write(spark.createDataFrame(c, schema), current, WriteOptions.of(WriteMode.OVERWRITE));
  }

  @Test
  void driftExitsOneWritesTheReportHistoryAndAnMlflowRun() throws Exception {
    Path store = dir.resolve("mlflow");
    try (TrackingServer server =
        TrackingServer.builder().host("127.0.0.1").port(0).storeDirectory(store).build().start()) {
      Path settings = dir.resolve("kiln.yaml");
      Files.writeString(settings, "tracking:\n  uri: " + server.uri() + "\n");
      Path report = dir.resolve("out/drift.html");
      KilnRun run =
          kiln(
              "drift",
              "--reference",
              reference + "@0",
              "--current",
              current,
              "--report",
              report.toString(),
              "--prediction",
              "score",
              "--settings",
              settings.toString(),
              "--workdir",
              dir.resolve("work").toString());
      assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
      assertThat(run.out())
          .contains("Drift of " + current + "@0 (300 rows) against " + reference + "@0 (300 rows)")
          .containsPattern("delay\\s+feature\\s+DRIFTED")
          .containsPattern("origin\\s+feature\\s+DRIFTED")
          .containsPattern("score\\s+prediction\\s+STABLE")
          .contains("2 of 2 features drifted (100%, dataset threshold 50%): DRIFTED")
          .contains("Report: " + report.toAbsolutePath())
          .contains(
              "History: "
                  + dir.resolve("work").toAbsolutePath().resolve("drift/history")
                  + " version 0")
          .doesNotContain("MLflow run: ");
      assertThat(run.err()).contains("MLflow tracking: " + server.uri()).contains("MLflow run: ");
      assertThat(Files.readString(report)).contains("<svg", "delay", "origin");
      try (Stream<Path> files = Files.walk(store)) {
        assertThat(files.map(Path::toString)).anyMatch(p -> p.endsWith("drift/report.html"));
      }
    }
  }

  @Test
  void driftWithJsonPrintsItsRecordOnStandardOutputThenExitsOne() throws Exception {
    Path report = dir.resolve("out/drift-json.html");
    KilnRun run =
        kiln(
            "drift",
            "--reference",
            reference + "@0",
            "--current",
            current,
            "--report",
            report.toString(),
            "--prediction",
            "score",
            "--workdir",
            dir.resolve("work-json").toString(),
            "--json");

    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    JsonNode json = new ObjectMapper().readTree(run.out());
    assertThat(json.at("/result/drifted").asBoolean()).isTrue();
    assertThat(json.at("/result/current/dataset/table").asText()).isEqualTo(current);
    assertThat(json.at("/result/current/dataset/version").asLong()).isZero();
    assertThat(json.at("/result/referenceRows").asLong()).isEqualTo(300);
    assertThat(json.at("/result/currentRows").asLong()).isEqualTo(300);
    Map<String, String> verdicts = new java.util.TreeMap<>();
    json.at("/result/features")
        .forEach(f -> verdicts.put(f.get("name").asText(), f.get("verdict").asText()));
    assertThat(verdicts)
        .containsEntry("delay", "DRIFTED")
        .containsEntry("origin", "DRIFTED")
        .containsEntry("score", "STABLE");
    assertThat(json.get("report").asText()).isEqualTo(report.toAbsolutePath().toString());
    assertThat(json.get("historyVersion").asLong()).isZero();
    assertThat(json.get("runId").asText()).isNotBlank();
    assertThat(run.err())
        .contains("2 of 2 features drifted (100%, dataset threshold 50%): DRIFTED")
        .contains("kiln: error: the dataset drifted");
  }

  @Test
  void noDriftExitsZeroAndReusesTheReferenceProfile() {
    String work = dir.resolve("work-same").toString();
    KilnRun first =
        kiln(
            "drift",
            "--reference",
            reference + "@0",
            "--current",
            reference + "@0",
            "--workdir",
            work);
    assertThat(first.exitCode()).as(first.err()).isZero();
    assertThat(first.out())
        .contains("0 of 3 features drifted (0%, dataset threshold 50%): no drift");
    assertThat(first.err())
        .contains("MLflow tracking: embedded server at")
        .contains("MLflow run: ");
    assertThat(first.out())
        .contains("Report: " + Path.of(work).toAbsolutePath().resolve("drift/reports"));
    KilnRun second =
        kiln(
            "drift",
            "--reference",
            reference + "@0",
            "--current",
            reference + "@0",
            "--workdir",
            work,
            "--no-history");
    assertThat(second.exitCode()).isZero();
    assertThat(second.out()).contains("reference profile reused").doesNotContain("History:");
  }

  @Test
  void chunkedDriftPrintsEachChunkAndPutsThemInItsJson() throws Exception {
    KilnRun run =
        kiln(
            "drift",
            "--reference",
            reference,
            "--current",
            current,
            "--chunk",
            "count:3",
            "--report",
            dir.resolve("chunked.html").toString(),
            "--workdir",
            dir.resolve("work-chunked").toString(),
            "--no-history",
            "--json");
    assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
    JsonNode result = new ObjectMapper().readTree(run.out()).get("result");
    assertThat(result.get("chunking").asText()).isEqualTo("3 chunks");
    assertThat(result.get("chunks")).hasSize(3);
    for (JsonNode chunk : result.get("chunks")) {
      assertThat(chunk.get("rows").asLong()).isEqualTo(100);
      assertThat(chunk.get("drifted").asBoolean()).isTrue();
    }
    // the reference is cut the same way (three chunks of 100 rows): the reconstruction error's
    // band comes from them; delay and score are the numeric features, origin the categorical one
    // (count-encoded, as NannyML does)
    assertThat(result.at("/multivariate/columns").toString())
        .isEqualTo("[\"delay\",\"score\",\"origin\"]");
    assertThat(result.at("/multivariate/reference")).hasSize(3);
    assertThat(result.at("/multivariate/current")).hasSize(3);
    assertThat(run.err())
        .contains("Multivariate drift (PCA reconstruction error")
        .contains("drifted columns")
        .contains("3 of 3 chunks (3 chunks) drifted column by column");
    assertThat(Files.readString(dir.resolve("chunked.html")))
        .contains("Drift over chunks (3 chunks)");

    KilnRun small = kiln("drift", "--reference", reference, "--current", current, "--chunk", "10");
    assertThat(small.exitCode()).isEqualTo(2);
    assertThat(small.err()).contains("below the minimum chunk size of 50 rows");
    KilnRun estimateWithoutModel =
        kiln("drift", "--reference", reference, "--current", current, "--estimate");
    assertThat(estimateWithoutModel.exitCode()).isEqualTo(2);
    assertThat(estimateWithoutModel.err())
        .contains("--estimate estimates a model's performance and needs --model");
  }

  @Test
  void badInputExitsTwoWithTheValueAndTheFix() throws Exception {
    KilnRun model =
        kiln(
            "drift",
            "--reference",
            reference,
            "--current",
            current,
            "--model",
            "models:/delay@champion",
            "--workdir",
            dir.resolve("work-model").toString());
    assertThat(model.exitCode()).isEqualTo(2);
    assertThat(model.err())
        .contains("there is no registered model 'delay' (models:/delay@champion)")
        .doesNotContain("\tat ");

    KilnRun noReference = kiln("drift", "--current", current);
    assertThat(noReference.exitCode()).isEqualTo(2);
    assertThat(noReference.err())
        .contains("no reference side: --reference is missing")
        .contains("--model models:/NAME@ALIAS");

    KilnRun labelsWithoutModel =
        kiln(
            "drift",
            "--reference",
            reference,
            "--current",
            current,
            "--labels",
            current,
            "--key",
            "id");
    assertThat(labelsWithoutModel.exitCode()).isEqualTo(2);
    assertThat(labelsWithoutModel.err())
        .contains("--labels and --key measure a model's performance and need --model");

    KilnRun labelsWithoutKey =
        kiln(
            "drift",
            "--current",
            current,
            "--model",
            "models:/delay@champion",
            "--labels",
            current);
    assertThat(labelsWithoutKey.exitCode()).isEqualTo(2);
    assertThat(labelsWithoutKey.err()).contains("needs --key");

    KilnRun missing =
        kiln("drift", "--reference", dir.resolve("nothing").toString(), "--current", current);
    assertThat(missing.exitCode()).isEqualTo(2);
    // the tables are checked before the embedded tracking server starts
    assertThat(missing.err())
        .contains("is not a Delta table")
        .doesNotContain("\tat ")
        .doesNotContain("MLflow tracking");

    Path config = dir.resolve("drift.yaml");
    Files.writeString(config, "features: [delay]\nthresholds:\n  psi: -1\n");
    KilnRun badConfig =
        kiln(
            "drift", "--reference", reference, "--current", current, "--config", config.toString());
    assertThat(badConfig.exitCode()).isEqualTo(2);
    assertThat(badConfig.err())
        .contains(config + ":")
        .contains("psi must be a positive number, got -1.0");

    KilnRun empty =
        kiln(
            "drift",
            "--reference",
            reference,
            "--current",
            current,
            "--current-where",
            "delay > 1000",
            "--workdir",
            dir.resolve("work-empty").toString());
    assertThat(empty.exitCode()).isEqualTo(2);
    assertThat(empty.err())
        .contains("the current data " + current + "@0 where delay > 1000 has no rows")
        .doesNotContain("\tat ");

    KilnRun unknownColumn =
        kiln(
            "drift",
            "--reference",
            reference,
            "--current",
            current,
            "--prediction",
            "scroe",
            "--workdir",
            dir.resolve("work-bad").toString());
    assertThat(unknownColumn.exitCode()).isEqualTo(2);
    assertThat(unknownColumn.err())
        .contains("lacks column 'scroe'; it has 'delay', 'origin', 'score'");
  }
}
