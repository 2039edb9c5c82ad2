package kiln.lineage;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import kiln.core.CodeVersion;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.TrackedRun;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class LineageTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final OpenLineageSchema SCHEMA = new OpenLineageSchema();

  private static List<JsonNode> events(Path workdir) throws Exception {
    List<JsonNode> events = new ArrayList<>();
    for (String line :
        Files.readAllLines(workdir.resolve("lineage").resolve(FileTransport.FILE_NAME))) {
      assertThat(SCHEMA.violations(line)).as(line).isEmpty();
      events.add(JSON.readTree(line));
    }
    return events;
  }

  @Test
  void aRunCarriesTheTriadAndEmitsStartAndCompleteThatTheOfficialSchemaAccepts(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = dir.resolve("flights").toString();
    String output = dir.resolve("features").toString();
    Datasets datasets = new Datasets(spark);
    datasets.write(
        spark.range(3).selectExpr("id", "named_struct('a', id, 'b', 'x') as nested"),
        input,
        WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(
        spark.range(3).selectExpr("id", "id * 2.0 as score"),
        output,
        WriteOptions.of(WriteMode.OVERWRITE));
    Path config = dir.resolve("features.yaml");
    Files.writeString(config, "input: " + input + "\n");
    Path workdir = dir.resolve("work");
    Map<String, String> env =
        Map.of(
            "OPENLINEAGE_PARENT_ID",
            "airflow/flights_dag.build_features/0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e",
            "OPENLINEAGE_ROOT_PARENT_ID",
            "airflow/flights_dag/0190d0e2-4c1a-7b7e-9d53-000000000001");
    Lineage lineage = Lineage.open(workdir, env, notice -> {});

    RecordedRun mlflow = new RecordedRun();
    TrackedRun run =
        lineage.run(
            mlflow, "features " + output, Map.of("kiln.job", "features"), config, "http://mlflow");
    assertThat(mlflow.tags)
        .containsEntry(RunLineage.CONFIG_SHA256, CodeVersion.sha256(config))
        .containsEntry(RunLineage.CONFIG_FILE, "features.yaml")
        .containsKey(RunLineage.KILN_VERSION)
        .containsKey("openlineage.run_id");
    assertThat(mlflow.tags.get(RunLineage.CODE_VERSION))
        .matches("git:[0-9a-f]{40}(-dirty)?|jar-sha256:[0-9a-f]{64}");
    assertThat(mlflow.artifacts).containsEntry("config/features.yaml", config);

    run.logInput(DatasetRef.atVersion(input, 0), "input");
    run.logInput(DatasetRef.atVersion(output, 0), "output");
    run.finish();

    assertThat(mlflow.status).isEqualTo("FINISHED");
    assertThat(mlflow.inputs).containsExactly("input=" + input + "@0", "output=" + output + "@0");
    assertThat(mlflow.tags)
        .containsEntry("kiln.input.input", input + "@0")
        .containsEntry("kiln.output.output", output + "@0");

    List<JsonNode> events = events(workdir);
    assertThat(events)
        .extracting(e -> e.get("eventType").asText())
        .containsExactly("START", "COMPLETE");
    assertThat(events)
        .extracting(e -> e.at("/run/runId").asText())
        .containsOnly(mlflow.tags.get("openlineage.run_id"));
    JsonNode complete = events.get(1);
    assertThat(complete.at("/job/namespace").asText()).isEqualTo("kiln");
    assertThat(complete.at("/job/name").asText()).isEqualTo("kiln.features");
    assertThat(complete.at("/run/facets/mlflow/runId").asText()).isEqualTo(mlflow.id());
    assertThat(complete.at("/run/facets/parent/run/runId").asText())
        .isEqualTo("0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e");
    assertThat(complete.at("/run/facets/parent/job/name").asText())
        .isEqualTo("flights_dag.build_features");
    assertThat(complete.at("/run/facets/parent/root/job/name").asText()).isEqualTo("flights_dag");
    JsonNode in = complete.at("/inputs/0");
    assertThat(in.get("namespace").asText()).isEqualTo("file");
    assertThat(in.get("name").asText()).isEqualTo(Path.of(input).toAbsolutePath().toString());
    assertThat(in.at("/facets/version/datasetVersion").asText()).isEqualTo("0");
    assertThat(in.at("/facets/schema/fields"))
        .extracting(f -> f.get("name").asText() + ":" + f.get("type").asText())
        .containsExactly("id:bigint", "nested:struct");
    assertThat(in.at("/facets/schema/fields/1/fields"))
        .extracting(f -> f.get("name").asText())
        .containsExactly("a", "b");
    JsonNode out = complete.at("/outputs/0");
    assertThat(out.get("name").asText()).isEqualTo(Path.of(output).toAbsolutePath().toString());
    assertThat(out.at("/facets/schema/fields"))
        .extracting(f -> f.get("name").asText())
        .containsExactly("id", "score");
    assertThat(events.get(0).get("inputs")).isEmpty();
  }

  @Test
  void theSchemaAtAVersionComesFromTheLogsCommitsAsDeltaItselfReadsIt(
      SparkSession spark, @TempDir Path dir) {
    String table = dir.resolve("t").toString();
    // version 0 has one column; version 1 adds a struct (a metaData action); version 2 only appends
    spark.range(2).selectExpr("id").write().format("delta").save(table);
    var nested = spark.range(2).selectExpr("id", "named_struct('a', id) as nested");
    nested.write().format("delta").mode("append").option("mergeSchema", "true").save(table);
    nested.write().format("delta").mode("append").save(table);
    for (long version = 0; version <= 2; version++) {
      assertThat(DeltaLogSchema.at(spark, table, version))
          .contains(
              spark.read().format("delta").option("versionAsOf", version).load(table).schema());
    }
    assertThat(DeltaLogSchema.at(spark, dir.resolve("none").toString(), 0)).isEmpty();
  }

  @Test
  void aFailedRunEmitsFailWithTheErrorAndModelVersionsCarryTheTriad(@TempDir Path dir)
      throws Exception {
    Path workdir = dir.resolve("work");
    Lineage lineage = Lineage.open(workdir, Map.of(), notice -> {});
    Map<String, Map<String, String>> registered = new HashMap<>();
    var tracking = lineage.tracking(new RegisteringTracking(registered));
    RecordedRun mlflow = new RecordedRun();
    TrackedRun run = lineage.run(mlflow, "train delays", Map.of("kiln.job", "train"), null, null);
    run.logInput(DatasetRef.atVersion("s3a://bucket/features/delays", 4), "training");
    tracking.registerModel(
        "delays",
        "mlflow-artifacts:/1/x/artifacts/model",
        mlflow.id(),
        Map.of(RunLineage.MODEL_SHA256, "ab".repeat(32)));
    run.setTags(Map.of("kiln.model", "delays", "kiln.model_version", "1"));
    run.fail(new IllegalStateException("the label column is empty"));

    assertThat(mlflow.status).isEqualTo("FAILED");
    assertThat(mlflow.tags)
        .containsEntry(RunLineage.MODEL_SHA256, "ab".repeat(32))
        .doesNotContainKey(RunLineage.CONFIG_SHA256);
    assertThat(registered.get("delays"))
        .containsEntry("kiln.input.training", "s3a://bucket/features/delays@4")
        .containsEntry(RunLineage.MODEL_SHA256, "ab".repeat(32))
        .containsEntry(RunLineage.CODE_VERSION, mlflow.tags.get(RunLineage.CODE_VERSION))
        .containsKey(RunLineage.KILN_VERSION);

    List<JsonNode> events = events(workdir);
    assertThat(events)
        .extracting(e -> e.get("eventType").asText())
        .containsExactly("START", "FAIL");
    JsonNode fail = events.get(1);
    assertThat(fail.at("/run/facets/errorMessage/message").asText())
        .isEqualTo("the label column is empty");
    assertThat(fail.at("/run/facets/mlflow/modelVersion").asText()).isEqualTo("delays/1");
    assertThat(fail.at("/run/facets/parent").isMissingNode()).isTrue();
    JsonNode in = fail.at("/inputs/0");
    assertThat(in.get("namespace").asText()).isEqualTo("s3://bucket");
    assertThat(in.get("name").asText()).isEqualTo("features/delays");
    assertThat(in.at("/facets/version/datasetVersion").asText()).isEqualTo("4");
  }

  @Test
  void aChecksVerdictsGoOnTheInputAsTheSpecsDataQualityFacets(@TempDir Path dir) throws Exception {
    Lineage lineage = Lineage.open(dir, Map.of(), notice -> {});
    RecordedRun mlflow = new RecordedRun();
    TrackedRun run =
        lineage.run(mlflow, "contracts check", Map.of("kiln.job", "contracts check"), null, null);
    DatasetRef orders = DatasetRef.atVersion("/tmp/orders", 3);
    run.logInput(orders, "input");
    run.logInput(DatasetRef.atVersion("/tmp/orders_quarantine", 0), "quarantine");
    lineage.dataQuality(
        run,
        new DataQuality(
            orders,
            List.of(
                new DataQuality.Assertion(
                    "not_null", true, "id", "error", "id.required", "= 1", "1"),
                new DataQuality.Assertion("row_count", false, null, "warn", "tiny", "< 3", "3")),
            java.util.Optional.of(3L),
            Map.of("amount", new DataQuality.ColumnMetrics(0L, null, null, 10.0, Double.NaN))));
    run.finish();

    JsonNode complete = events(dir).get(1);
    JsonNode in = complete.at("/inputs/0");
    assertThat(in.get("name").asText()).isEqualTo("/tmp/orders");
    assertThat(in.at("/inputFacets/dataQualityAssertions/assertions"))
        .extracting(
            a ->
                a.get("assertion").asText()
                    + " "
                    + a.get("success").asBoolean()
                    + " "
                    + a.path("column").asText("-")
                    + " "
                    + a.get("severity").asText())
        .containsExactly("not_null true id error", "row_count false - warn");
    assertThat(in.at("/inputFacets/dataQualityMetrics/rowCount").asLong()).isEqualTo(3);
    assertThat(in.at("/inputFacets/dataQualityMetrics/columnMetrics/amount/nullCount").asLong())
        .isZero();
    assertThat(in.at("/inputFacets/dataQualityMetrics/columnMetrics/amount/min").asDouble())
        .isEqualTo(10.0);
    // NaN is not JSON: left out, the event stays valid (events() validated it)
    assertThat(in.at("/inputFacets/dataQualityMetrics/columnMetrics/amount/max").isMissingNode())
        .isTrue();
    assertThat(complete.at("/outputs/0/inputFacets").isMissingNode()).isTrue();
  }

  @Test
  void theSchemaCheckKnowsTheDataQualityFacetsShape() {
    OpenLineageEvents events =
        new OpenLineageEvents(
            "test",
            "kiln",
            "kiln.contracts_check",
            java.util.Optional.empty(),
            java.util.Optional.empty());
    DatasetRef table = DatasetRef.atVersion("/tmp/t", 2);
    String valid =
        events.event(
            "COMPLETE",
            java.time.Instant.now(),
            null,
            null,
            null,
            List.of(
                new OpenLineageEvents.Dataset(
                    new RunLineage.Table(table, "input", false),
                    java.util.Optional.empty(),
                    java.util.Optional.of(
                        new DataQuality(
                            table,
                            List.of(
                                new DataQuality.Assertion(
                                    "unique", true, "id", "error", "id.unique", null, "1.0")),
                            java.util.Optional.of(2L),
                            Map.of())))),
            null);
    assertThat(SCHEMA.violations(valid)).isEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"success\":true", "\"success\":\"yes\"")))
        .isNotEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"rowCount\":2", "\"rowCount\":2.5"))).isNotEmpty();
  }

  @Test
  void aMalformedParentIsSaidAndLeftOutRatherThanFailingTheJob(@TempDir Path dir) throws Exception {
    List<String> notices = new ArrayList<>();
    Lineage lineage =
        Lineage.open(dir, Map.of("OPENLINEAGE_PARENT_ID", "not-a-parent"), notices::add);
    lineage.run(new RecordedRun(), "ingest", Map.of("kiln.job", "ingest"), null, null).finish();
    assertThat(notices)
        .anySatisfy(
            n ->
                assertThat(n)
                    .contains("OPENLINEAGE_PARENT_ID='not-a-parent'")
                    .contains("NAMESPACE/JOB_NAME/RUN_ID"));
    assertThat(events(dir))
        .hasSize(2)
        .allSatisfy(e -> assertThat(e.at("/run/facets/parent").isMissingNode()).isTrue());
  }

  @Test
  void disabledLineageStillTagsTheTriadButWritesNoEvents(@TempDir Path dir) {
    Lineage lineage = Lineage.open(dir, Map.of("OPENLINEAGE_DISABLED", "true"), notice -> {});
    RecordedRun mlflow = new RecordedRun();
    lineage.run(mlflow, "ingest", Map.of("kiln.job", "ingest"), null, null).finish();
    assertThat(mlflow.tags).containsKey(RunLineage.CODE_VERSION);
    assertThat(dir.resolve("lineage")).doesNotExist();
  }

  @Test
  void datasetNamesFollowTheOpenLineageNamingOfStorage() {
    assertThat(DatasetName.of("s3a://bucket/warehouse/flights"))
        .isEqualTo(new DatasetName("s3://bucket", "warehouse/flights"));
    assertThat(DatasetName.of("hdfs://namenode:8020/data/flights/"))
        .isEqualTo(new DatasetName("hdfs://namenode:8020", "data/flights"));
    assertThat(DatasetName.of("file:/tmp/flights"))
        .isEqualTo(new DatasetName("file", "/tmp/flights"));
    assertThat(DatasetName.of("/tmp/x/../flights"))
        .isEqualTo(new DatasetName("file", "/tmp/flights"));
  }

  @Test
  void aFileSourceIsNamedAsSparkNamesWhatItsGlobMatches(@TempDir Path dir) throws Exception {
    Path landing = Files.createDirectories(dir.resolve("landing"));
    Files.writeString(landing.resolve("day-1.csv"), "a\n1\n");
    Files.writeString(landing.resolve("day-2.csv"), "a\n2\n");
    org.apache.hadoop.conf.Configuration hadoop = new org.apache.hadoop.conf.Configuration();
    String named = landing.toAbsolutePath().toString();
    assertThat(DatasetName.ofSource(landing.toString(), hadoop))
        .isEqualTo(new DatasetName("file", named));
    // two matches: the directory they share; one match: that file (Spark's root path)
    assertThat(DatasetName.ofSource(landing + "/day-*.csv", hadoop))
        .isEqualTo(new DatasetName("file", named));
    assertThat(DatasetName.ofSource(landing + "/day-1*.csv", hadoop))
        .isEqualTo(new DatasetName("file", named + "/day-1.csv"));
    // nothing to list: the directory before the first wildcard
    assertThat(DatasetName.ofSource("s3a://bucket/landing/2026-*/*.csv", null))
        .isEqualTo(new DatasetName("s3://bucket", "landing"));
    assertThat(DatasetName.ofSource("s3a://bucket/landing/", null))
        .isEqualTo(new DatasetName("s3://bucket", "landing"));
  }

  @Test
  void sourceFilesAreAnInputOfTheRunsEventsWithTheirLocationAndFormat(@TempDir Path dir)
      throws Exception {
    Path workdir = dir.resolve("work");
    Lineage lineage = Lineage.open(workdir, Map.of(), notice -> {});
    TrackedRun run =
        lineage.run(new RecordedRun(), "ingest", Map.of("kiln.job", "ingest"), null, null);
    run.logSourceFiles("s3a://bucket/landing/2026-*.csv", "csv");
    run.logSourceFiles("s3a://bucket/landing/2026-*.csv", "csv");
    run.finish();
    List<JsonNode> events = events(workdir);
    JsonNode inputs = events.get(1).get("inputs");
    assertThat(inputs).hasSize(1);
    assertThat(inputs.at("/0/namespace").asText()).isEqualTo("s3://bucket");
    assertThat(inputs.at("/0/name").asText()).isEqualTo("landing");
    assertThat(inputs.at("/0/facets/sourceFiles/location").asText())
        .isEqualTo("s3a://bucket/landing/2026-*.csv");
    assertThat(inputs.at("/0/facets/sourceFiles/format").asText()).isEqualTo("csv");
    assertThat(inputs.at("/0/facets/storage").isMissingNode()).isTrue();
  }

  @Test
  void airflowsParentIdIsNamespaceJobNameAndRunId() {
    assertThat(ParentRun.parse("airflow/dag.task/0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e"))
        .hasValueSatisfying(
            p -> {
              assertThat(p.namespace()).isEqualTo("airflow");
              assertThat(p.name()).isEqualTo("dag.task");
            });
    assertThat(ParentRun.parse("ns/a/b/0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e"))
        .hasValueSatisfying(p -> assertThat(p.name()).isEqualTo("a/b"));
    assertThat(ParentRun.parse("ns/job/not-a-uuid")).isEmpty();
    assertThat(ParentRun.parse("ns/0190d0e2-4c1a-7b7e-9d53-7a1a2b3c4d5e")).isEmpty();
  }

  @Test
  void runIdsAreTimeOrderedVersion7Uuids() {
    var first = OpenLineageEvents.uuid7();
    assertThat(first.version()).isEqualTo(7);
    assertThat(first.variant()).isEqualTo(2);
  }

  @Test
  void theSchemaCheckRefusesEventsTheSpecForbids() {
    OpenLineageEvents events =
        new OpenLineageEvents(
            "test", "kiln", "kiln.ingest", java.util.Optional.empty(), java.util.Optional.empty());
    String valid =
        events.event(
            "COMPLETE",
            java.time.Instant.now(),
            "abc",
            null,
            null,
            List.of(
                new OpenLineageEvents.Dataset(
                    new RunLineage.Table(DatasetRef.atVersion("/tmp/t", 2), "output", true),
                    java.util.Optional.empty())),
            null);
    assertThat(SCHEMA.violations(valid)).isEmpty();
    assertThat(
            SCHEMA.violations(
                valid.replace("\"eventType\":\"COMPLETE\"", "\"eventType\":\"DONE\"")))
        .isNotEmpty();
    assertThat(SCHEMA.violations(valid.replace(events.runId().toString(), "run-1"))).isNotEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"datasetVersion\":\"2\"", "\"datasetVersion\":2")))
        .isNotEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"processingType\":\"BATCH\",", ""))).isNotEmpty();
  }

  @Test
  void aRunOpenedInsideAnotherHasItAsParentAndTheOutermostAsRoot(@TempDir Path dir)
      throws Exception {
    Lineage lineage = Lineage.open(dir, Map.of(), notice -> {});
    RecordedRun demo = new RecordedRun();
    TrackedRun outer = lineage.run(demo, "demo", Map.of("kiln.job", "demo"), null, null);
    TrackedRun middle =
        lineage.run(new RecordedRun(), "drift", Map.of("kiln.job", "drift"), null, null);
    TrackedRun inner =
        lineage.run(new RecordedRun(), "ingest", Map.of("kiln.job", "ingest"), null, null);
    inner.finish();
    middle.finish();
    outer.finish();
    List<JsonNode> events = events(dir);
    assertThat(events)
        .extracting(e -> e.at("/job/name").asText() + " " + e.get("eventType").asText())
        .containsExactly(
            "kiln.demo START",
            "kiln.drift START",
            "kiln.ingest START",
            "kiln.ingest COMPLETE",
            "kiln.drift COMPLETE",
            "kiln.demo COMPLETE");
    String demoRun = demo.tags.get("openlineage.run_id");
    JsonNode ingest = events.get(3);
    assertThat(ingest.at("/run/facets/parent/job/name").asText()).isEqualTo("kiln.drift");
    assertThat(ingest.at("/run/facets/parent/run/runId").asText())
        .isEqualTo(events.get(1).at("/run/runId").asText());
    assertThat(ingest.at("/run/facets/parent/root/run/runId").asText()).isEqualTo(demoRun);
    assertThat(events.get(5).at("/run/facets/parent").isMissingNode()).isTrue();
  }
}
