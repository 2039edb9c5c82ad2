package kiln.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.Tracking;
import kiln.lineage.CodeVersion;
import kiln.lineage.RunLineage;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.tracking.MlflowClient;

/**
 * Every job's run gets its lineage through Reporting: the triad in MLflow, OpenLineage events in
 * the work directory.
 */
@ExtendWith(SharedSpark.class)
class LineageCommandsTest {

  private static Map<String, String> tags(Run run) {
    return run.getData().getTagsList().stream()
        .collect(Collectors.toMap(t -> t.getKey(), t -> t.getValue()));
  }

  @Test
  void featuresAndTrainRunsAndTheModelVersionCarryTheTriadAndEmitEvents(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String flights = dir.resolve("flights").toString();
    new Datasets(spark)
        .write(
            spark
                .range(300)
                .selectExpr(
                    "timestamp_ntz'2001-01-01 00:00:00' + make_interval(0, 0, 0, 0, cast(id * 10 % 4300 as int), 0, 0) as date",
                    "case when id * 10 % 24 >= 17 and id % 3 != 0 then 30l else cast(id % 7 as bigint) end as delay",
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
    Files.writeString(
        trainConfig,
        "features: "
            + features
            + "@0\nmodel: delays\nnumRound: 5\nnumWorkers: 1\nnthread: 1\n"
            + "device: cpu\nlabel: label\nkey: flight_id\nfeatureColumns: [hour, day_of_week, month, distance, origin_index,"
            + " destination_index, origin_flights, origin_delay_rate, route_flights, route_delay_rate]\n"
            + "hyperparameters:\n  max_depth: 2\n");
    Path workdir = dir.resolve("work");

    try (TrackingServer server =
        TrackingServer.builder()
            .host("127.0.0.1")
            .port(0)
            .storeDirectory(dir.resolve("store"))
            .build()
            .start()) {
      String uri = server.uri().toString();
      KilnCommandTest.Run built =
          KilnCommandTest.kiln(
              "features",
              "--config",
              featureConfig.toString(),
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(built.exitCode()).as(built.err()).isZero();
      KilnCommandTest.Run trained =
          KilnCommandTest.kiln(
              "train",
              "--config",
              trainConfig.toString(),
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(trained.exitCode()).as(trained.err()).isZero();

      MlflowClient client = new MlflowClient(uri);
      String experimentId = client.getExperimentByName("kiln").orElseThrow().getExperimentId();
      List<Run> runs =
          client.searchRuns(List.of(experimentId), "").stream()
              .map(info -> client.getRun(info.getRunId()))
              .toList();
      Run featuresRun =
          runs.stream()
              .filter(r -> tags(r).get("kiln.job").equals("features"))
              .findFirst()
              .orElseThrow();
      Run trainRun =
          runs.stream()
              .filter(r -> tags(r).get("kiln.job").equals("train"))
              .findFirst()
              .orElseThrow();
      String codeVersion = CodeVersion.current().describe();

      assertThat(tags(featuresRun))
          .containsEntry(RunLineage.CODE_VERSION, codeVersion)
          .containsKey(RunLineage.KILN_VERSION)
          .containsEntry(RunLineage.CONFIG_SHA256, CodeVersion.sha256(featureConfig))
          .containsEntry(RunLineage.CONFIG_FILE, "features.yaml")
          .containsEntry("kiln.input.input", flights + "@0")
          .containsEntry("kiln.output.output", features + "@0");
      Path configArtifact =
          server
              .artifactRoot()
              .resolve(experimentId)
              .resolve(featuresRun.getInfo().getRunId())
              .resolve("artifacts/config/features.yaml");
      assertThat(configArtifact).hasSameTextualContentAs(featureConfig);

      Map<String, String> trainTags = tags(trainRun);
      assertThat(trainTags)
          .containsEntry(RunLineage.CODE_VERSION, codeVersion)
          .containsEntry(RunLineage.CONFIG_SHA256, CodeVersion.sha256(trainConfig))
          .containsEntry("kiln.input.training", features + "@0")
          .containsEntry("kiln.input.source", flights + "@0");
      assertThat(trainTags.get(RunLineage.MODEL_SHA256)).matches("[0-9a-f]{64}");

      try (MlflowTracking tracking =
          MlflowTracking.connect(uri, Map.of(), dir.resolve("spool"), n -> {})) {
        Tracking.ModelVersion version = tracking.modelVersion("delays", "1").orElseThrow();
        assertThat(version.tags())
            .containsEntry(RunLineage.CODE_VERSION, codeVersion)
            .containsEntry(RunLineage.CONFIG_SHA256, CodeVersion.sha256(trainConfig))
            .containsEntry("kiln.input.training", features + "@0")
            .containsEntry(RunLineage.MODEL_SHA256, trainTags.get(RunLineage.MODEL_SHA256))
            .containsKey(RunLineage.KILN_VERSION);
      }

      ObjectMapper json = new ObjectMapper();
      List<JsonNode> events = new ArrayList<>();
      for (String line : Files.readAllLines(workdir.resolve("lineage/events.jsonl"))) {
        events.add(json.readTree(line));
      }
      assertThat(events)
          .extracting(e -> e.at("/job/name").asText() + " " + e.get("eventType").asText())
          .containsExactly(
              "kiln.features START",
              "kiln.features COMPLETE",
              "kiln.train START",
              "kiln.train COMPLETE");
      JsonNode featuresComplete = events.get(1);
      assertThat(featuresComplete.at("/run/facets/mlflow/runId").asText())
          .isEqualTo(featuresRun.getInfo().getRunId());
      assertThat(featuresComplete.at("/inputs/0/name").asText())
          .isEqualTo(Path.of(flights).toAbsolutePath().toString());
      assertThat(featuresComplete.at("/outputs/0/facets/version/datasetVersion").asText())
          .isEqualTo("0");
      assertThat(featuresComplete.at("/outputs/0/facets/schema/fields")).isNotEmpty();
      assertThat(events.get(3).at("/run/facets/mlflow/modelVersion").asText())
          .isEqualTo("delays/1");

      // kiln lineage show walks the events: the model back to the ingested table, the table on to
      // the model
      KilnCommandTest.Run shown =
          KilnCommandTest.kiln(
              "lineage", "show", "models:/delays/1", "--workdir", workdir.toString());
      assertThat(shown.exitCode()).as(shown.err()).isZero();
      assertThat(shown.out())
          .contains("Upstream of models:/delays/1")
          .contains("kiln.train run")
          .contains(Path.of(features).toAbsolutePath() + "@0")
          .contains("kiln.features run")
          .contains(Path.of(flights).toAbsolutePath() + "@0")
          .contains("(MLflow run " + trainRun.getInfo().getRunId() + ")");
      KilnCommandTest.Run shownJson =
          KilnCommandTest.kiln(
              "lineage", "show", flights + "@0", "--json", "--workdir", workdir.toString());
      assertThat(shownJson.exitCode()).as(shownJson.err()).isZero();
      JsonNode walk = json.readTree(shownJson.out());
      assertThat(walk.at("/downstream/next/0/details/job").asText()).isEqualTo("kiln.features");
      assertThat(walk.at("/downstream/next/0/next/0/next/0/details/model").asText())
          .isEqualTo("models:/delays/1");
      KilnCommandTest.Run unknown =
          KilnCommandTest.kiln(
              "lineage", "show", "models:/delays/7", "--workdir", workdir.toString());
      assertThat(unknown.exitCode()).isEqualTo(2);
      assertThat(unknown.err())
          .contains("no recorded run registered or used models:/delays/7")
          .contains("models:/delays/1");
    }
  }
}
