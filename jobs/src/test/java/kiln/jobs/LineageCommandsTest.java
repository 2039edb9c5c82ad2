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
import kiln.core.CodeVersion;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.Tracking;
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

  /** A new version replaces every row, and VACUUM with no retention deletes the old files. */
  private static void replaceAndVacuum(SparkSession spark, String table) {
    var rows = spark.read().format("delta").load(table);
    new Datasets(spark)
        .write(
            spark.createDataFrame(rows.limit(5).collectAsList(), rows.schema()),
            table,
            WriteOptions.of(WriteMode.OVERWRITE));
    spark.conf().set("spark.databricks.delta.retentionDurationCheck.enabled", "false");
    try {
      io.delta.tables.DeltaTable.forPath(spark, table).vacuum(0);
    } finally {
      spark.conf().unset("spark.databricks.delta.retentionDurationCheck.enabled");
    }
  }

  /** The work directory's events, each valid against the official OpenLineage schemas. */
  private static List<JsonNode> events(Path workdir) throws Exception {
    ObjectMapper json = new ObjectMapper();
    kiln.lineage.OpenLineageSchema schema = new kiln.lineage.OpenLineageSchema();
    List<JsonNode> events = new ArrayList<>();
    for (String line : Files.readAllLines(workdir.resolve("lineage/events.jsonl"))) {
      assertThat(schema.violations(line)).as(line).isEmpty();
      events.add(json.readTree(line));
    }
    return events;
  }

  /** A column's inputFields as NAME.FIELD TYPE/SUBTYPE[/masked],... */
  private static List<String> sources(JsonNode column) {
    JsonNode inputs = column.has("inputFields") ? column.get("inputFields") : column;
    List<String> found = new ArrayList<>();
    for (JsonNode input : inputs) {
      List<String> kinds = new ArrayList<>();
      for (JsonNode t : input.path("transformations")) {
        kinds.add(
            t.get("type").asText()
                + "/"
                + t.get("subtype").asText()
                + (t.path("masking").asBoolean() ? "/masked" : ""));
      }
      found.add(
          input.get("name").asText()
              + "."
              + input.get("field").asText()
              + " "
              + String.join(",", kinds));
    }
    return found;
  }

  @Test
  void ingestsOutputCarriesColumnLineageFromTheSourceFilesColumns(@TempDir Path dir)
      throws Exception {
    Path landing = dir.resolve("landing");
    Files.createDirectories(landing);
    StringBuilder csv = new StringBuilder("id,carrier,dep_delay\n");
    for (int i = 0; i < 10; i++) {
      csv.append(i).append(i % 2 == 0 ? ",AA," : ",UA,").append(i * 3).append('\n');
    }
    Files.writeString(landing.resolve("day.csv"), csv.toString());
    Path schema = dir.resolve("schema.yaml");
    Files.writeString(
        schema,
        "columns:\n  - {name: id, type: int}\n  - {name: carrier, type: string}\n"
            + "  - {name: dep_delay, type: double}\n");
    String table = dir.resolve("flights").toString();
    Path workdir = dir.resolve("work");
    KilnRun ingested =
        KilnRun.kiln(
            "ingest",
            "--source",
            landing.toString(),
            "--format",
            "csv",
            "--schema",
            schema.toString(),
            "--output",
            table,
            "--workdir",
            workdir.toString());
    assertThat(ingested.exitCode()).as(ingested.err()).isZero();
    List<JsonNode> events = events(workdir);
    JsonNode complete = events.get(events.size() - 1);
    assertThat(complete.at("/job/name").asText()).isEqualTo("kiln.ingest");
    JsonNode columns = complete.at("/outputs/0/facets/columnLineage/fields");
    String source = landing.toAbsolutePath().toString();
    // typed from the raw text: each column from its own source column
    assertThat(sources(columns.path("dep_delay")))
        .containsExactly(source + ".dep_delay DIRECT/TRANSFORMATION");
    assertThat(sources(columns.path("carrier"))).allMatch(s -> s.startsWith(source + ".carrier "));
    assertThat(columns.fieldNames()).toIterable().containsExactly("id", "carrier", "dep_delay");
    // the source directory those columns come from is an input the event declares
    assertThat(complete.get("inputs"))
        .extracting(i -> i.get("namespace").asText() + " " + i.get("name").asText())
        .containsExactly("file " + source);
    assertThat(complete.at("/inputs/0/facets/sourceFiles/format").asText()).isEqualTo("csv");
    assertThat(columns.path("dep_delay").at("/inputFields/0/namespace").asText()).isEqualTo("file");
    // and the table's upstream walk reaches it through the ingest run
    KilnRun shown =
        KilnRun.kiln(
            "lineage", "show", table + "@0", "--no-check", "--workdir", workdir.toString());
    assertThat(shown.exitCode()).as(shown.err()).isZero();
    assertThat(shown.out()).contains("kiln.ingest run").contains(source);
  }

  @Test
  void featuresAndTrainRunsAndTheModelVersionCarryTheTriadAndEmitEvents(
      SparkSession spark, @TempDir Path dir) throws Exception {
    // the flights arrive as Parquet files and are ingested, so column walks reach their files
    Path landing = dir.resolve("landing");
    spark
        .range(300)
        .selectExpr(
            "timestamp_ntz'2001-01-01 00:00:00' + make_interval(0, 0, 0, 0, cast(id * 10 % 4300 as int), 0, 0) as date",
            "case when id * 10 % 24 >= 17 and id % 3 != 0 then 30l else cast(id % 7 as bigint) end as delay",
            "cast(100 + id * 37 % 2000 as bigint) as distance",
            "element_at(array('SFO', 'LAX', 'ORD', 'JFK'), cast(id % 4 + 1 as int)) as origin",
            "element_at(array('LAX', 'ORD', 'JFK', 'SFO'), cast(id % 3 + 1 as int)) as destination")
        .write()
        .parquet(landing.toString());
    String flights = dir.resolve("flights").toString();
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
      KilnRun ingested =
          KilnRun.kiln(
              "ingest",
              "--source",
              landing.toString(),
              "--format",
              "parquet",
              "--output",
              flights,
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(ingested.exitCode()).as(ingested.err()).isZero();
      KilnRun built =
          KilnRun.kiln(
              "features",
              "--config",
              featureConfig.toString(),
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString(),
              "--lineage-parent",
              "airflow/flights_dag.features/0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e");
      assertThat(built.exitCode()).as(built.err()).isZero();
      KilnRun trained =
          KilnRun.kiln(
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
      List<JsonNode> all = events(workdir);
      assertThat(all)
          .extracting(e -> e.at("/job/name").asText() + " " + e.get("eventType").asText())
          .startsWith("kiln.ingest START", "kiln.ingest COMPLETE");
      List<JsonNode> events = all.subList(2, all.size());
      assertThat(events)
          .extracting(e -> e.at("/job/name").asText() + " " + e.get("eventType").asText())
          .containsExactly(
              "kiln.features START",
              "kiln.features COMPLETE",
              "kiln.train START",
              "kiln.train COMPLETE");
      JsonNode featuresComplete = events.get(1);
      assertThat(featuresComplete.at("/run/facets/parent/job/name").asText())
          .isEqualTo("flights_dag.features");
      assertThat(featuresComplete.at("/run/facets/parent/run/runId").asText())
          .isEqualTo("0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e");
      assertThat(events.get(3).at("/run/facets/parent").isMissingNode()).isTrue();
      assertThat(featuresComplete.at("/run/facets/mlflow/runId").asText())
          .isEqualTo(featuresRun.getInfo().getRunId());
      assertThat(featuresComplete.at("/inputs/0/name").asText())
          .isEqualTo(Path.of(flights).toAbsolutePath().toString());
      assertThat(featuresComplete.at("/outputs/0/facets/version/datasetVersion").asText())
          .isEqualTo("0");
      assertThat(featuresComplete.at("/outputs/0/facets/schema/fields")).isNotEmpty();
      assertThat(events.get(3).at("/run/facets/mlflow/modelVersion").asText())
          .isEqualTo("delays/1");

      // column-level lineage of the feature table, from the plan the features job wrote
      JsonNode columns = featuresComplete.at("/outputs/0/facets/columnLineage/fields");
      String flightsName = Path.of(flights).toAbsolutePath().toString();
      assertThat(sources(columns.path("hour")))
          .containsExactly(flightsName + ".date DIRECT/TRANSFORMATION");
      assertThat(sources(columns.path("origin")))
          .containsExactly(flightsName + ".origin DIRECT/IDENTITY");
      // the split key hashes five columns: each listed, the hash masking them
      assertThat(sources(columns.path("flight_id")))
          .containsExactly(
              flightsName + ".date DIRECT/TRANSFORMATION/masked",
              flightsName + ".delay DIRECT/TRANSFORMATION/masked",
              flightsName + ".destination DIRECT/TRANSFORMATION/masked",
              flightsName + ".distance DIRECT/TRANSFORMATION/masked",
              flightsName + ".origin DIRECT/TRANSFORMATION/masked");
      // a per-route statistic: the mean of the label (from delay) over the training period's rows
      assertThat(sources(columns.path("route_delay_rate")))
          .contains(flightsName + ".delay DIRECT/AGGREGATION");
      // the whole table: the training period and the split filter rows, the statistics group and
      // join by airport, the airport codes are numbered over a window
      assertThat(sources(featuresComplete.at("/outputs/0/facets/columnLineage/dataset")))
          .containsExactly(
              flightsName + ".date INDIRECT/FILTER",
              flightsName + ".delay INDIRECT/FILTER",
              flightsName
                  + ".destination INDIRECT/FILTER,INDIRECT/GROUP_BY,INDIRECT/JOIN,INDIRECT/WINDOW",
              flightsName + ".distance INDIRECT/FILTER",
              flightsName
                  + ".origin INDIRECT/FILTER,INDIRECT/GROUP_BY,INDIRECT/JOIN,INDIRECT/WINDOW");

      // kiln lineage show --column follows one column up to its source columns
      KilnRun column =
          KilnRun.kiln(
              "lineage",
              "show",
              features + "@0",
              "--column",
              "route_delay_rate",
              "--workdir",
              workdir.toString());
      assertThat(column.exitCode()).as(column.err()).isZero();
      assertThat(column.out())
          .contains("Column route_delay_rate of " + features + "@0")
          .contains(flightsName + "@0.delay (DIRECT/AGGREGATION)")
          .contains(
              flightsName
                  + "@0.origin (INDIRECT/FILTER, INDIRECT/GROUP_BY, INDIRECT/JOIN,"
                  + " INDIRECT/WINDOW)");
      KilnRun columnJson =
          KilnRun.kiln(
              "lineage",
              "show",
              features + "@0",
              "--column",
              "hour",
              "--json",
              "--workdir",
              workdir.toString());
      assertThat(columnJson.exitCode()).as(columnJson.err()).isZero();
      JsonNode hour = json.readTree(columnJson.out()).get("column");
      assertThat(hour.at("/details/column").asText()).isEqualTo("hour");
      assertThat(hour.at("/next/0/details/table").asText()).isEqualTo(flightsName + "@0");
      assertThat(hour.at("/next/0/details/column").asText()).isEqualTo("date");
      assertThat(hour.at("/next/0/details/transformations").asText())
          .isEqualTo("DIRECT/TRANSFORMATION");
      Path columnPage = dir.resolve("column.html");
      KilnRun columnDrawn =
          KilnRun.kiln(
              "lineage",
              "show",
              features + "@0",
              "--column",
              "hour",
              "--html",
              columnPage.toString(),
              "--workdir",
              workdir.toString());
      assertThat(columnDrawn.exitCode()).as(columnDrawn.err()).isZero();
      assertThat(columnPage)
          .content()
          .contains("<svg ")
          .contains("DIRECT/TRANSFORMATION")
          .contains(">date<")
          .doesNotContain("<script");
      KilnRun noColumn =
          KilnRun.kiln(
              "lineage",
              "show",
              features + "@0",
              "--column",
              "nope",
              "--workdir",
              workdir.toString());
      assertThat(noColumn.exitCode()).isEqualTo(2);
      assertThat(noColumn.err()).contains("has no column nope").contains("route_delay_rate");

      // kiln lineage show walks the events: the model back to the ingested table, the table on to
      // the model
      KilnRun shown =
          KilnRun.kiln("lineage", "show", "models:/delays/1", "--workdir", workdir.toString());
      assertThat(shown.exitCode()).as(shown.err()).isZero();
      assertThat(shown.out())
          .contains("Upstream of models:/delays/1")
          .contains("kiln.train run")
          .contains(Path.of(features).toAbsolutePath() + "@0")
          .contains("kiln.features run")
          .contains(Path.of(flights).toAbsolutePath() + "@0")
          .contains("(MLflow run " + trainRun.getInfo().getRunId() + ")");
      KilnRun shownJson =
          KilnRun.kiln(
              "lineage", "show", flights + "@0", "--json", "--workdir", workdir.toString());
      assertThat(shownJson.exitCode()).as(shownJson.err()).isZero();
      JsonNode walk = json.readTree(shownJson.out());
      assertThat(walk.at("/downstream/next/0/details/job").asText()).isEqualTo("kiln.features");
      assertThat(walk.at("/downstream/next/0/next/0/next/0/details/model").asText())
          .isEqualTo("models:/delays/1");
      // the graph as a page: every node, nothing fetched from elsewhere
      Path page = dir.resolve("lineage.html");
      KilnRun drawn =
          KilnRun.kiln(
              "lineage",
              "show",
              "models:/delays/1",
              "--html",
              page.toString(),
              "--workdir",
              workdir.toString());
      assertThat(drawn.exitCode()).as(drawn.err()).isZero();
      assertThat(drawn.out())
          .contains("Wrote the lineage graph to " + page)
          .doesNotContain("warning:");
      assertThat(page)
          .content()
          .contains("<svg ")
          .contains("models:/delays/1")
          .contains("kiln.train")
          .contains("kiln.features")
          .doesNotContain("<script");

      // scoring writes the columnLineage facet too
      String predictions = dir.resolve("predictions").toString();
      KilnRun scored =
          KilnRun.kiln(
              "score",
              "--model",
              "models:/delays/1",
              "--input",
              features + "@0",
              "--output",
              predictions,
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(scored.exitCode()).as(scored.err()).isZero();
      List<JsonNode> scoreEvents = events(workdir);
      JsonNode scoreComplete = scoreEvents.get(scoreEvents.size() - 1);
      assertThat(scoreComplete.at("/job/name").asText()).isEqualTo("kiln.score");
      JsonNode predicted = scoreComplete.at("/outputs/0/facets/columnLineage/fields");
      assertThat(predicted.fieldNames())
          .toIterable()
          .contains("flight_id", "prediction", "probability", "model_version", "scored_at");
      // XGBoost's transform builds its result from an RDD, where the plan ends: the job names what
      // it knows instead. Its outputs are computed from the model's feature columns, the input's
      // columns copied, the provenance columns constants (from no column).
      String featuresName = Path.of(features).toAbsolutePath().toString();
      List<String> fromFeatures =
          List.of(
                  "day_of_week",
                  "destination_index",
                  "distance",
                  "hour",
                  "month",
                  "origin_delay_rate",
                  "origin_flights",
                  "origin_index",
                  "route_delay_rate",
                  "route_flights")
              .stream()
              .map(c -> featuresName + "." + c + " DIRECT/TRANSFORMATION")
              .toList();
      assertThat(sources(predicted.path("prediction"))).isEqualTo(fromFeatures);
      assertThat(sources(predicted.path("probability"))).isEqualTo(fromFeatures);
      assertThat(sources(predicted.path("flight_id")))
          .containsExactly(featuresName + ".flight_id DIRECT/IDENTITY");
      assertThat(predicted.at("/model_version/inputFields")).isEmpty();
      assertThat(predicted.at("/scored_at/inputFields")).isEmpty();
      // the prediction's walk: the feature table's columns, the flights table's, the ingested
      // files'
      KilnRun predictionWalk =
          KilnRun.kiln(
              "lineage",
              "show",
              predictions + "@0",
              "--column",
              "prediction",
              "--workdir",
              workdir.toString());
      assertThat(predictionWalk.exitCode()).as(predictionWalk.err()).isZero();
      String landingName = landing.toAbsolutePath().toString();
      assertThat(predictionWalk.out())
          .contains("Column prediction of " + predictions + "@0")
          .contains(featuresName + "@0.hour (DIRECT/TRANSFORMATION)")
          .contains(flightsName + "@0.date (DIRECT/TRANSFORMATION)")
          .contains(landingName + ".date (DIRECT/IDENTITY)")
          .contains(featuresName + "@0.route_delay_rate (DIRECT/TRANSFORMATION)")
          .contains(flightsName + "@0.delay (DIRECT/AGGREGATION)")
          .contains(landingName + ".delay (DIRECT/IDENTITY)");

      // reproduce: a dry run checks and prints; the real one trains again, registers nothing, and
      // finds XGBoost on CPU with fixed seeds bit for bit the same
      KilnRun planned =
          KilnRun.kiln(
              "lineage",
              "reproduce",
              "models:/delays/1",
              "--dry-run",
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(planned.exitCode()).as(planned.err()).isZero();
      Path pinnedConfig = workdir.resolve("reproduce/delays-1/train.yaml");
      assertThat(planned.out())
          .contains("code: recorded " + codeVersion + ", now " + codeVersion + " (same)")
          .contains("readable    " + features + "@0 (training)")
          .contains("readable    " + flights + "@0 (source)")
          .contains("config: train.yaml, sha256 matches the recorded one")
          .contains("kiln train --config " + pinnedConfig);
      assertThat(pinnedConfig).content().contains(features + "@0");
      KilnRun reproduced =
          KilnRun.kiln(
              "lineage",
              "reproduce",
              trainRun.getInfo().getRunId(),
              "--json",
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(reproduced.exitCode()).as(reproduced.err()).isZero();
      JsonNode reproduction = json.readTree(reproduced.out());
      assertThat(reproduction.get("model").asText()).isEqualTo("models:/delays/1");
      assertThat(reproduction.get("identical").asBoolean()).isTrue();
      assertThat(reproduction.get("compared"))
          .extracting(c -> c.get("name").asText() + " " + c.get("identical").asBoolean())
          .contains("weights sha256 true", "test auc_roc true", "test log_loss true");
      try (MlflowTracking tracking =
          MlflowTracking.connect(uri, Map.of(), dir.resolve("spool"), n -> {})) {
        assertThat(tracking.modelVersions("delays")).hasSize(1);
      }

      // flights@0 replaced and vacuumed: a job pinned to it is refused by name (exit 2), and show
      // warns that the model's source can no longer be read
      replaceAndVacuum(spark, flights);
      KilnRun refused =
          KilnRun.kiln(
              "features",
              "--config",
              featureConfig.toString(),
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(refused.exitCode()).as(refused.err()).isEqualTo(2);
      assertThat(refused.err())
          .contains("version 0 of " + flights + " can no longer be read: VACUUM deleted")
          .contains("fix: read a later version")
          .doesNotContain("Exception");
      KilnRun warned =
          KilnRun.kiln("lineage", "show", "models:/delays/1", "--workdir", workdir.toString());
      assertThat(warned.exitCode()).as(warned.err()).isZero();
      assertThat(warned.out())
          .contains(
              "warning: "
                  + Path.of(flights).toAbsolutePath()
                  + "@0 can no longer be read: VACUUM deleted");
      // and once the feature version goes too, the model cannot be reproduced: exit 2, named
      replaceAndVacuum(spark, features);
      KilnRun pastRetention =
          KilnRun.kiln(
              "lineage",
              "reproduce",
              "models:/delays/1",
              "--dry-run",
              "--tracking-uri",
              uri,
              "--workdir",
              workdir.toString());
      assertThat(pastRetention.exitCode()).as(pastRetention.err()).isEqualTo(2);
      assertThat(pastRetention.out()).contains("UNREADABLE  " + features + "@0 (training)");
      assertThat(pastRetention.err())
          .contains("models:/delays/1 cannot be reproduced: its training input is past retention")
          .contains(features + "@0: VACUUM deleted");
      KilnRun badParent =
          KilnRun.kiln(
              "features",
              "--config",
              featureConfig.toString(),
              "--workdir",
              workdir.toString(),
              "--lineage-parent",
              "airflow/not-a-run");
      assertThat(badParent.exitCode()).isEqualTo(2);
      assertThat(badParent.err())
          .contains("--lineage-parent 'airflow/not-a-run' is not NAMESPACE/JOB_NAME/RUN_ID");

      KilnRun unknown =
          KilnRun.kiln("lineage", "show", "models:/delays/7", "--workdir", workdir.toString());
      assertThat(unknown.exitCode()).isEqualTo(2);
      assertThat(unknown.err())
          .contains("no recorded run registered or used models:/delays/7")
          .contains("models:/delays/1");
    }
  }
}
