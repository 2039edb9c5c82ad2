package kiln.lineage;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.sha2;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.TrackedRun;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The columnLineage facet on a run's outputs, read from the plan of the frame the run writes
 * (ten-row frames; every event validated against the official schemas, the facet's own included).
 */
@ExtendWith(SharedSpark.class)
class ColumnLineageTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final OpenLineageSchema SCHEMA = new OpenLineageSchema();

  private static String flights(SparkSession spark, Path dir) {
    String table = dir.resolve("flights").toString();
    new Datasets(spark)
        .write(
            spark
                .range(10)
                .selectExpr(
                    "id",
                    "IF(id % 2 = 0, 'AA', 'UA') AS carrier",
                    "CAST(id * 3 AS DOUBLE) AS dep_delay",
                    "CAST(id - 4 AS DOUBLE) AS arr_delay",
                    "CAST(100 + id * 50 AS DOUBLE) AS distance"),
            table,
            WriteOptions.of(WriteMode.OVERWRITE));
    return table;
  }

  /** Runs {@code derive} over version 0 of the flights table in a run, writing {@code output}. */
  private static JsonNode complete(
      SparkSession spark,
      Path workdir,
      Map<String, String> env,
      String input,
      String output,
      java.util.function.Function<Dataset<Row>, Dataset<Row>> derive)
      throws Exception {
    List<String> notices = new ArrayList<>();
    Lineage lineage = Lineage.open(workdir, env, notices::add);
    TrackedRun run =
        lineage.run(new RecordedRun(), "features", Map.of("kiln.job", "features"), null, null);
    Datasets datasets = new Datasets(spark);
    DatasetRef read = DatasetRef.atVersion(input, 0);
    Dataset<Row> rows = datasets.read(read);
    WriteResult written =
        datasets.write(derive.apply(rows), output, WriteOptions.of(WriteMode.OVERWRITE));
    run.logInput(read, "input");
    run.logInput(written.written(), "output");
    run.finish();
    assertThat(notices).isEmpty();
    List<JsonNode> events = new ArrayList<>();
    for (String line :
        Files.readAllLines(workdir.resolve("lineage").resolve(FileTransport.FILE_NAME))) {
      assertThat(SCHEMA.violations(line)).as(line).isEmpty();
      events.add(JSON.readTree(line));
    }
    assertThat(events).extracting(e -> e.get("eventType").asText()).endsWith("COMPLETE");
    return events.get(events.size() - 1);
  }

  private static List<String> sources(JsonNode inputFields) {
    List<String> found = new ArrayList<>();
    for (JsonNode field : inputFields) {
      List<String> kinds = new ArrayList<>();
      field
          .path("transformations")
          .forEach(
              t ->
                  kinds.add(
                      t.get("type").asText()
                          + "/"
                          + t.get("subtype").asText()
                          + (t.get("masking").asBoolean() ? "/masked" : "")));
      found.add(field.get("field").asText() + " " + String.join(",", kinds));
    }
    return found;
  }

  @Test
  void aFeatureComputedFromTwoSourceColumnsListsBothAsTransformationsAndAFilterAffectsTheTable(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = flights(spark, dir);
    String output = dir.resolve("features").toString();
    JsonNode complete =
        complete(
            spark,
            dir.resolve("work"),
            Map.of(),
            input,
            output,
            rows ->
                rows.filter(col("distance").gt(200))
                    .select(
                        col("id"),
                        col("carrier").as("airline"),
                        col("dep_delay").plus(col("arr_delay")).as("total_delay")));

    JsonNode out = complete.at("/outputs/0");
    assertThat(out.get("name").asText()).isEqualTo(Path.of(output).toAbsolutePath().toString());
    JsonNode facet = out.at("/facets/columnLineage");
    assertThat(facet.get("_schemaURL").asText()).contains("1-2-0/ColumnLineageDatasetFacet.json");
    assertThat(facet.get("fields").fieldNames())
        .toIterable()
        .containsExactly("id", "airline", "total_delay");
    JsonNode total = facet.at("/fields/total_delay/inputFields");
    assertThat(sources(total))
        .containsExactly("arr_delay DIRECT/TRANSFORMATION", "dep_delay DIRECT/TRANSFORMATION");
    String source = Path.of(input).toAbsolutePath().toString();
    assertThat(total)
        .allSatisfy(
            f -> {
              assertThat(f.get("namespace").asText()).isEqualTo("file");
              assertThat(f.get("name").asText()).isEqualTo(source);
            });
    // the input dataset of the same event names the same table: a consumer can join them
    assertThat(complete.at("/inputs/0/name").asText()).isEqualTo(source);
    assertThat(sources(facet.at("/fields/airline/inputFields")))
        .containsExactly("carrier DIRECT/IDENTITY");
    assertThat(sources(facet.get("dataset"))).containsExactly("distance INDIRECT/FILTER");
    // inputs carry no column lineage: it belongs to what a run wrote
    assertThat(complete.at("/inputs/0/facets/columnLineage").isMissingNode()).isTrue();
  }

  @Test
  void anAggregateIsAggregationFromItsColumnAndGroupByFromTheKeysAndAHashIsMasking(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = flights(spark, dir);
    JsonNode complete =
        complete(
            spark,
            dir.resolve("work"),
            Map.of(),
            input,
            dir.resolve("by_carrier").toString(),
            rows ->
                rows.groupBy(col("carrier"))
                    .agg(avg(col("dep_delay")).as("mean_delay"), count(col("id")).as("flights"))
                    .withColumn("carrier_hash", sha2(col("carrier"), 256))
                    .orderBy(col("mean_delay")));

    JsonNode facet = complete.at("/outputs/0/facets/columnLineage");
    assertThat(sources(facet.at("/fields/carrier/inputFields")))
        .containsExactly("carrier DIRECT/IDENTITY");
    assertThat(sources(facet.at("/fields/mean_delay/inputFields")))
        .containsExactly("dep_delay DIRECT/AGGREGATION");
    assertThat(sources(facet.at("/fields/flights/inputFields")))
        .containsExactly("id DIRECT/AGGREGATION");
    assertThat(sources(facet.at("/fields/carrier_hash/inputFields")))
        .containsExactly("carrier DIRECT/TRANSFORMATION/masked");
    assertThat(sources(facet.get("dataset")))
        .containsExactly("carrier INDIRECT/GROUP_BY", "dep_delay INDIRECT/SORT");
  }

  @Test
  void aJoinOfTwoTablesNamesEachColumnsOwnTableAndTheKeysAsJoin(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = flights(spark, dir);
    String carriers = dir.resolve("carriers").toString();
    new Datasets(spark)
        .write(
            spark.range(10).selectExpr("IF(id % 2 = 0, 'AA', 'UA') AS code", "id AS size"),
            carriers,
            WriteOptions.of(WriteMode.OVERWRITE));
    Dataset<Row> sizes = new Datasets(spark).read(DatasetRef.atVersion(carriers, 0));
    JsonNode complete =
        complete(
            spark,
            dir.resolve("work"),
            Map.of(),
            input,
            dir.resolve("joined").toString(),
            rows ->
                rows.join(sizes, rows.col("carrier").equalTo(sizes.col("code")))
                    .select(rows.col("id"), sizes.col("size")));

    JsonNode facet = complete.at("/outputs/0/facets/columnLineage");
    assertThat(facet.at("/fields/size/inputFields/0/name").asText())
        .isEqualTo(Path.of(carriers).toAbsolutePath().toString());
    assertThat(facet.at("/fields/id/inputFields/0/name").asText())
        .isEqualTo(Path.of(input).toAbsolutePath().toString());
    assertThat(sources(facet.get("dataset")))
        .containsExactlyInAnyOrder("carrier INDIRECT/JOIN", "code INDIRECT/JOIN");
  }

  @Test
  void aUnionsColumnComesFromTheSameColumnOfEveryBranch(SparkSession spark, @TempDir Path dir)
      throws Exception {
    String input = flights(spark, dir);
    JsonNode complete =
        complete(
            spark,
            dir.resolve("work"),
            Map.of(),
            input,
            dir.resolve("delays").toString(),
            rows ->
                rows.select(col("id"), col("dep_delay").as("delay"))
                    .union(rows.select(col("id"), col("arr_delay").as("delay"))));

    JsonNode fields = complete.at("/outputs/0/facets/columnLineage/fields");
    assertThat(sources(fields.at("/delay/inputFields")))
        .containsExactly("arr_delay DIRECT/IDENTITY", "dep_delay DIRECT/IDENTITY");
    assertThat(sources(fields.at("/id/inputFields"))).containsExactly("id DIRECT/IDENTITY");
  }

  @Test
  void anOpaqueMapIsTakenToReadEveryColumnItWasGiven(SparkSession spark, @TempDir Path dir)
      throws Exception {
    String input = flights(spark, dir);
    JsonNode complete =
        complete(
            spark,
            dir.resolve("work"),
            Map.of(),
            input,
            dir.resolve("mapped").toString(),
            rows ->
                rows.select(col("dep_delay"), col("arr_delay"))
                    .map(
                        (org.apache.spark.api.java.function.MapFunction<Row, Double>)
                            r -> r.getDouble(0) - r.getDouble(1),
                        org.apache.spark.sql.Encoders.DOUBLE())
                    .toDF("gap"));

    assertThat(sources(complete.at("/outputs/0/facets/columnLineage/fields/gap/inputFields")))
        .containsExactly("arr_delay DIRECT/TRANSFORMATION", "dep_delay DIRECT/TRANSFORMATION");
  }

  @Test
  void columnsAStepHidesFromThePlanTakeTheSourcesTheWritingJobNames(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = flights(spark, dir);
    String output = dir.resolve("scored").toString();
    Path workdir = dir.resolve("work");
    Lineage lineage = Lineage.open(workdir, Map.of(), notice -> {});
    TrackedRun run =
        lineage.run(new RecordedRun(), "score", Map.of("kiln.job", "score"), null, null);
    Datasets datasets = new Datasets(spark);
    Dataset<Row> given =
        datasets
            .read(DatasetRef.atVersion(input, 0))
            .filter(col("distance").gt(200))
            .withColumn("total_delay", col("dep_delay").plus(col("arr_delay")));
    // a round trip through an RDD, as XGBoost's transform makes: the written plan starts there
    Dataset<Row> modelled =
        given.select(col("id"), col("total_delay"), col("dep_delay").multiply(2).as("prediction"));
    Dataset<Row> scored =
        spark
            .createDataFrame(modelled.javaRDD(), modelled.schema())
            .withColumn("model_version", org.apache.spark.sql.functions.lit("1"));
    WriteResult written =
        datasets.write(
            scored,
            output,
            WriteOptions.of(WriteMode.OVERWRITE),
            kiln.core.ColumnSources.of(given)
                .copied("id")
                .copied("total_delay")
                .computed("prediction", List.of("dep_delay", "carrier"))
                .computed("not_written", List.of("id")));
    run.logInput(DatasetRef.atVersion(input, 0), "input");
    run.logInput(written.written(), "output");
    run.finish();
    List<String> lines =
        Files.readAllLines(workdir.resolve("lineage").resolve(FileTransport.FILE_NAME));
    lines.forEach(line -> assertThat(SCHEMA.violations(line)).as(line).isEmpty());
    JsonNode facet =
        JSON.readTree(lines.get(lines.size() - 1)).at("/outputs/0/facets/columnLineage");

    assertThat(sources(facet.at("/fields/id/inputFields"))).containsExactly("id DIRECT/IDENTITY");
    // a copy of a computed column is computed
    assertThat(sources(facet.at("/fields/total_delay/inputFields")))
        .containsExactly("arr_delay DIRECT/TRANSFORMATION", "dep_delay DIRECT/TRANSFORMATION");
    assertThat(sources(facet.at("/fields/prediction/inputFields")))
        .containsExactly("carrier DIRECT/TRANSFORMATION", "dep_delay DIRECT/TRANSFORMATION");
    assertThat(facet.at("/fields/prediction/inputFields/0/name").asText())
        .isEqualTo(Path.of(input).toAbsolutePath().toString());
    // a constant comes from no column; a column the write lacks is not invented
    assertThat(facet.at("/fields/model_version/inputFields")).isEmpty();
    assertThat(facet.get("fields").has("not_written")).isFalse();
    // the filter on the frame the model was given affects every written row
    assertThat(sources(facet.get("dataset"))).containsExactly("distance INDIRECT/FILTER");
    // without the job's word the plan says nothing past the RDD
    assertThat(ColumnLineage.of(scored).fields().get("prediction")).isEmpty();
  }

  @Test
  void theColumnsOfFilesReadThroughAGlobComeFromTheInputTheRunDeclaresForThem(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Path landing = Files.createDirectories(dir.resolve("landing"));
    Files.writeString(landing.resolve("day-1.csv"), "carrier,delay\nAA,1\n");
    Files.writeString(landing.resolve("day-2.csv"), "carrier,delay\nUA,2\n");
    Path workdir = dir.resolve("work");
    Lineage lineage = Lineage.open(workdir, Map.of(), notice -> {});
    TrackedRun run =
        lineage.run(new RecordedRun(), "ingest", Map.of("kiln.job", "ingest"), null, null);
    String glob = landing + "/day-*.csv";
    run.logSourceFiles(glob, "csv");
    WriteResult written =
        new Datasets(spark)
            .write(
                spark.read().option("header", "true").csv(glob),
                dir.resolve("flights").toString(),
                WriteOptions.of(WriteMode.OVERWRITE));
    run.logInput(written.written(), "output");
    run.finish();
    List<String> lines =
        Files.readAllLines(workdir.resolve("lineage").resolve(FileTransport.FILE_NAME));
    lines.forEach(line -> assertThat(SCHEMA.violations(line)).as(line).isEmpty());
    JsonNode complete = JSON.readTree(lines.get(lines.size() - 1));
    JsonNode delay = complete.at("/outputs/0/facets/columnLineage/fields/delay/inputFields/0");
    assertThat(delay.get("name").asText()).isEqualTo(landing.toAbsolutePath().toString());
    assertThat(complete.get("inputs"))
        .extracting(i -> i.get("namespace").asText() + " " + i.get("name").asText())
        .containsExactly(delay.get("namespace").asText() + " " + delay.get("name").asText());
  }

  @Test
  void aColumnsWalkFollowsItsSourcesThroughEveryRunThatWroteThemAtTheVersionsRead(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = flights(spark, dir);
    String clean = dir.resolve("clean").toString();
    String features = dir.resolve("features").toString();
    Path workdir = dir.resolve("work");
    complete(
        spark,
        workdir,
        Map.of(),
        input,
        clean,
        rows -> rows.select(col("carrier"), col("dep_delay").multiply(2).as("doubled")));
    complete(
        spark,
        workdir,
        Map.of(),
        clean,
        features,
        rows -> rows.filter(col("carrier").equalTo("AA")).select(col("doubled").plus(1).as("f")));

    LineageGraph graph =
        LineageGraph.read(workdir.resolve("lineage").resolve(FileTransport.FILE_NAME));
    LineageGraph.Node walked = graph.column(features + "@0", "f");
    String flightsAt = Path.of(input).toAbsolutePath() + "@0";
    String cleanAt = Path.of(clean).toAbsolutePath() + "@0";
    assertThat(LineageGraph.text(walked))
        .isEqualTo(
            Path.of(features).toAbsolutePath()
                + "@0.f\n"
                + "├─ "
                + cleanAt
                + ".doubled (DIRECT/TRANSFORMATION)\n"
                + "│  └─ "
                + flightsAt
                + ".dep_delay (DIRECT/TRANSFORMATION)\n"
                + "└─ "
                + cleanAt
                + ".carrier (INDIRECT/FILTER)");
    assertThatThrownBy(() -> graph.column(features + "@0", "g"))
        .isInstanceOf(kiln.core.NotFoundException.class)
        .hasMessageContaining("has no column g");
    assertThatThrownBy(() -> graph.column(input + "@0", "id"))
        .isInstanceOf(kiln.core.NotFoundException.class)
        .hasMessageContaining("no recorded run wrote column lineage for " + flightsAt)
        .hasMessageContaining(cleanAt)
        .hasMessageContaining(Path.of(features).toAbsolutePath() + "@0");
    assertThatThrownBy(() -> graph.column("models:/delays/1", "f"))
        .isInstanceOf(kiln.core.BadInputException.class);
  }

  @Test
  void columnLineageCanBeTurnedOffAndAWriteOutsideARunRecordsNothing(
      SparkSession spark, @TempDir Path dir) throws Exception {
    String input = flights(spark, dir);
    JsonNode complete =
        complete(
            spark,
            dir.resolve("work"),
            Map.of(Lineage.COLUMNS_VARIABLE, "false"),
            input,
            dir.resolve("off").toString(),
            rows -> rows.select(col("id")));
    assertThat(complete.at("/outputs/0/facets/columnLineage").isMissingNode()).isTrue();
    assertThat(complete.at("/outputs/0/facets/schema").isMissingNode()).isFalse();
  }

  @Test
  void theSchemaCheckKnowsTheColumnLineageFacetsShape() {
    OpenLineageEvents events =
        new OpenLineageEvents(
            "test",
            "kiln",
            "kiln.features",
            java.util.Optional.empty(),
            java.util.Optional.empty());
    ColumnLineage columns =
        new ColumnLineage(
            Map.of(
                "total",
                List.of(
                    new ColumnLineage.InputField(
                        "file",
                        "/tmp/flights",
                        "dep_delay",
                        List.of(
                            new ColumnLineage.Transformation("DIRECT", "TRANSFORMATION", false))))),
            List.of());
    String valid =
        events.event(
            "COMPLETE",
            java.time.Instant.now(),
            null,
            null,
            null,
            List.of(
                new OpenLineageEvents.Dataset(
                    new RunLineage.Table(DatasetRef.atVersion("/tmp/features", 0), "output", true),
                    java.util.Optional.empty(),
                    java.util.Optional.empty(),
                    java.util.Optional.of(columns))),
            null);
    assertThat(valid).contains("\"columnLineage\"");
    assertThat(SCHEMA.violations(valid)).isEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"field\":\"dep_delay\",", ""))).isNotEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"masking\":false", "\"masking\":\"no\"")))
        .isNotEmpty();
    assertThat(SCHEMA.violations(valid.replace("\"inputFields\":", "\"sources\":"))).isNotEmpty();
  }
}
