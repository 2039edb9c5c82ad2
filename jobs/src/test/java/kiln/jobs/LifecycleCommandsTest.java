package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * kiln features, train, models gate/rollback and score as a user runs them: output, messages, exit
 * codes.
 */
@ExtendWith(SharedSpark.class)
class LifecycleCommandsTest {

  private static KilnRun kiln(TrackingServer server, Path dir, String... args) {
    String[] all = new String[args.length + 4];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = "--tracking-uri";
    all[args.length + 1] = server.uri().toString();
    all[args.length + 2] = "--workdir";
    all[args.length + 3] = dir.resolve("work").toString();
    return KilnRun.kiln(all);
  }

  @Test
  void featuresTrainGateScoreAndRollback(SparkSession spark, @TempDir Path dir) throws Exception {
    String flights = dir.resolve("flights").toString();
    // 400 flights over January-June; evening flights and ORD departures are late more often
    new Datasets(spark)
        .write(
            spark
                .range(400)
                .selectExpr(
                    "timestamp_ntz'2001-01-01 00:00:00' + make_interval(0, 0, 0, 0, cast(id * 10 % 4300 as int), cast(id * 7 % 60 as int), 0) as date",
                    "case when (id * 10 % 24 >= 17 and id % 3 != 0) or (id % 4 = 2 and id % 5 = 0) then 30l else cast(id % 7 as bigint) end as delay",
                    "cast(100 + id * 37 % 2000 as bigint) as distance",
                    "element_at(array('SFO', 'LAX', 'ORD', 'JFK'), cast(id % 4 + 1 as int)) as origin",
                    "element_at(array('LAX', 'ORD', 'JFK', 'SFO'), cast(id % 3 + 1 as int)) as destination"),
            flights,
            WriteOptions.of(WriteMode.OVERWRITE));
    String features = dir.resolve("features").toString();
    Path featureConfig = dir.resolve("features.yaml");
    // the flights example config, reading and writing this test's tables
    Files.writeString(
        featureConfig,
        Files.readString(Path.of("../training/examples/flights-features.yaml"))
            .replaceFirst("(?m)^input: .*$", "input: " + flights + "@0")
            .replaceFirst("(?m)^output: .*$", "output: " + features));
    Path trainConfig = dir.resolve("train.yaml");
    String train =
        "features: "
            + features
            + "@0\nmodel: delays\nnumRound: 20\nearlyStoppingRounds: 5\nnumWorkers: 1\n"
            + "nthread: 1\ngroupColumns: [origin]\nminGroupRows: 10\ndevice: auto\nlabel: label\nkey: flight_id\n"
            + "featureColumns: [hour, day_of_week, month, distance, origin_index, destination_index, origin_flights,"
            + " origin_delay_rate, destination_flights, destination_delay_rate, route_flights, route_delay_rate,"
            + " route_mean_delay]\n";
    Files.writeString(trainConfig, train + "hyperparameters:\n  max_depth: 3\n");
    Path badConfig = dir.resolve("bad.yaml");
    Files.writeString(badConfig, train + "hyperparameters:\n  max_dept: 3\n");

    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start()) {
      KilnRun built = kiln(server, dir, "features", "--config", featureConfig.toString());
      assertThat(built.exitCode()).as(built.err()).isZero();
      assertThat(built.out())
          .contains(
              "Built 400 rows of features into "
                  + features
                  + ", version 0, from "
                  + flights
                  + "@0");

      KilnRun bad = kiln(server, dir, "train", "--config", badConfig.toString());
      assertThat(bad.exitCode()).isEqualTo(2);
      assertThat(bad.err()).contains("unknown hyperparameter 'max_dept'").doesNotContain("\tat ");

      Path otherSplit = dir.resolve("other-split.yaml");
      Files.writeString(otherSplit, train + "seed: 7\n");
      KilnRun otherSplitRefused = kiln(server, dir, "train", "--config", otherSplit.toString());
      assertThat(otherSplitRefused.exitCode()).isEqualTo(2);
      assertThat(otherSplitRefused.err())
          .contains("was built with the split key flight_id, seed 42")
          .contains("asks for key flight_id, seed 7")
          .doesNotContain("\tat ");

      KilnRun trained = kiln(server, dir, "train", "--config", trainConfig.toString());
      assertThat(trained.exitCode()).as(trained.err()).isZero();
      assertThat(trained.out())
          .contains("Registered delays version 1 (device cpu")
          .contains("auc_roc")
          .contains("kiln models gate --model models:/delays/1");

      KilnRun gated =
          kiln(
              server,
              dir,
              "models",
              "gate",
              "--model",
              "models:/delays/1",
              "--max-latency-ms",
              "60000",
              "--max-group-gap",
              "1");
      assertThat(gated.exitCode()).as(gated.err()).isZero();
      assertThat(gated.out())
          .contains("PASS min_auc_roc")
          .contains("Version 1 of delays is now champion (the first).");

      KilnRun scored =
          kiln(
              server,
              dir,
              "score",
              "--model",
              "models:/delays@champion",
              "--input",
              features + "@0",
              "--output",
              dir.resolve("predictions").toString());
      assertThat(scored.exitCode()).as(scored.err()).isZero();
      assertThat(scored.out())
          .contains("Scored 400 rows of " + features + "@0 with delays version 1 into")
          .contains("0 error rows");

      KilnRun scoredJson =
          kiln(
              server,
              dir,
              "score",
              "--model",
              "models:/delays/1",
              "--input",
              features + "@0",
              "--output",
              dir.resolve("predictions-json").toString(),
              "--json");
      assertThat(scoredJson.exitCode()).as(scoredJson.err()).isZero();
      JsonNode score = new ObjectMapper().readTree(scoredJson.out());
      assertThat(score.get("model").asText()).isEqualTo("delays");
      assertThat(score.get("modelVersion").asText()).isEqualTo("1");
      assertThat(score.at("/input/table").asText()).isEqualTo(features);
      assertThat(score.at("/input/version").asLong()).isZero();
      assertThat(score.at("/output/table").asText())
          .isEqualTo(dir.resolve("predictions-json").toString());
      assertThat(score.at("/output/version").asLong()).isZero();
      assertThat(score.get("rows").asLong()).isEqualTo(400);
      assertThat(score.get("errorRows").asLong()).isZero();
      assertThat(scoredJson.err())
          .contains("Scored 400 rows of " + features + "@0 with delays version 1 into");

      // the champion's drift on what it scored: its features, scores, label and performance against
      // its test split
      Path driftReport = dir.resolve("model-drift.html");
      KilnRun drift =
          kiln(
              server,
              dir,
              "drift",
              "--model",
              "models:/delays@champion",
              "--current",
              dir.resolve("predictions").toString(),
              "--report",
              driftReport.toString());
      assertThat(drift.exitCode()).as(drift.err()).isIn(0, 1);
      assertThat(drift.out())
          .contains("against " + features + "@0 (test split of delays v1)")
          .containsPattern("model_score +prediction")
          .containsPattern("label +label")
          .containsPattern("auc_roc +performance")
          .contains("on 400 labelled rows vs");
      assertThat(Files.readString(driftReport)).contains("model_score").contains("auc_roc");

      KilnRun noAlias =
          kiln(
              server,
              dir,
              "score",
              "--model",
              "models:/delays@challenger",
              "--input",
              features,
              "--output",
              dir.resolve("predictions").toString());
      assertThat(noAlias.exitCode()).isEqualTo(2);
      assertThat(noAlias.err())
          .contains("model delays has no alias 'challenger'; it has champion (version 1)");

      assertThat(kiln(server, dir, "train", "--config", trainConfig.toString()).exitCode())
          .isZero();
      KilnRun refused =
          kiln(
              server,
              dir,
              "models",
              "gate",
              "--model",
              "models:/delays/2",
              "--min-improvement",
              "0.5",
              "--max-latency-ms",
              "60000",
              "--max-group-gap",
              "1");
      assertThat(refused.exitCode()).isEqualTo(1);
      assertThat(refused.out()).contains("FAIL min_improvement");
      assertThat(refused.err())
          .contains("the gate refused version 2 of delays; failed criteria:")
          .contains("- min_improvement: auc_roc")
          .contains("the champion stays version 1");

      KilnRun rollback = kiln(server, dir, "models", "rollback", "--model", "models:/delays");
      assertThat(rollback.exitCode()).isEqualTo(2);
      assertThat(rollback.err()).contains("model delays has no 'previous' version to roll back to");

      KilnRun trainedJson =
          kiln(server, dir, "train", "--config", trainConfig.toString(), "--json");
      assertThat(trainedJson.exitCode()).as(trainedJson.err()).isZero();
      JsonNode registered = new ObjectMapper().readTree(trainedJson.out());
      assertThat(registered.get("model").asText()).isEqualTo("delays");
      assertThat(registered.get("version").asText()).isEqualTo("3");
      assertThat(registered.get("device").asText()).isEqualTo("cpu");
      assertThat(registered.at("/features/table").asText()).isEqualTo(features);
      assertThat(registered.get("testRows").asLong()).isPositive();
      assertThat(registered.at("/metrics/auc_roc").asDouble()).isBetween(0.0, 1.0);
      assertThat(registered.get("runId").asText()).isNotBlank();
      assertThat(trainedJson.err()).contains("Registered delays version 3 (device cpu");
    }
  }
}
