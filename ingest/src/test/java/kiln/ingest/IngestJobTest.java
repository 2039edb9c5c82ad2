package kiln.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.YamlFiles;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class IngestJobTest {
  private final List<String> progress = new ArrayList<>();

  private static final String CSV =
      """
      flight,date,delay,distance,origin
      1,2001/01/03 10:15,12,405,ATL
      2,2001/01/03 11:20,-3,1200,SFO
      3,2001/13/45 99:99,7,300,LAX
      4,2001/01/04 08:00,abc,300,LAX
      5,2001/01/04 09:00,1.5,300,JFK
      6,,4,700,BOS
      7,2001/01/05 07:30,2,"800,ORD
      8,2001/01/05 07:45,0,950,DEN
      """;

  private static final String SCHEMA =
      """
      columns:
        - {name: flight, type: long, nullable: false}
        - {name: date, type: timestamp, format: "yyyy/MM/dd HH:mm", nullable: false}
        - {name: delay, type: int}
        - {name: distance, type: double}
        - {name: origin, type: string}
      """;

  @Test
  void csvWithSchemaTypesValuesAndQuarantinesWhatDoesNotParse(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Path source = write(dir, "flights.csv", CSV);
    String table = dir.resolve("flights").toString();
    IngestSchema schema = YamlFiles.parse(SCHEMA, "schema.yaml", IngestSchema.class);

    IngestResult result =
        new IngestJob(spark, progress::add)
            .run(IngestSpec.of(source.toString(), SourceFormat.CSV, table).withSchema(schema));

    Datasets datasets = new Datasets(spark);
    assertThat(result.table()).isEqualTo(DatasetRef.atVersion(table, 0));
    assertThat(result.rows()).isEqualTo(3);
    assertThat(result.quarantined()).isEqualTo(5);
    assertThat(result.rows() + result.quarantined()).isEqualTo(8); // nothing dropped silently
    Dataset<Row> rows = datasets.read(result.table());
    assertThat(rows.schema().simpleString())
        .isEqualTo("struct<flight:bigint,date:timestamp,delay:int,distance:double,origin:string>");
    assertThat(rows.orderBy("flight").collectAsList().stream().map(Row::toString).toList())
        .containsExactly(
            "[1,2001-01-03 10:15:00.0,12,405.0,ATL]",
            "[2,2001-01-03 11:20:00.0,-3,1200.0,SFO]",
            "[8,2001-01-05 07:45:00.0,0,950.0,DEN]");

    Map<String, String> reasons = quarantineReasons(spark, result.quarantine().orElseThrow());
    assertThat(reasons).hasSize(5);
    assertThat(reasons.get("3"))
        .isEqualTo(
            "column 'date': '2001/13/45 99:99' is not a valid timestamp in format 'yyyy/MM/dd HH:mm'");
    assertThat(reasons.get("4")).isEqualTo("column 'delay': 'abc' is not a valid int");
    assertThat(reasons.get("5")).isEqualTo("column 'delay': '1.5' is not a valid int");
    assertThat(reasons.get("6")).isEqualTo("column 'date' is required but has no value");
    assertThat(reasons.get("7")).startsWith("malformed csv record");
    Row quarantined =
        datasets.read(result.quarantine().get()).filter("raw_record LIKE '%abc%'").first();
    assertThat(quarantined.<String>getAs("raw_record")).contains("\"delay\":\"abc\"");
    assertThat(quarantined.<String>getAs("source_file")).endsWith("flights.csv");
    assertThat(quarantined.<Long>getAs("table_version")).isZero();
  }

  @Test
  void withoutSchemaTypesAreInferredAndMalformedJsonIsQuarantined(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Path json =
        write(
            dir,
            "events.json",
            """
        {"id": 1, "score": 0.5, "name": "a", "at": "2001-01-01T10:00:00"}
        {"id": 2, "score": 1.5, "name": "b", "at": "2001-01-02T10:00:00"}
        {"id": 3, "score": oops
        {"id": 4, "score": 2.0, "name": "d", "at": "2001-01-04T10:00:00"}
        """);
    String table = dir.resolve("events").toString();
    IngestResult result =
        new IngestJob(spark, progress::add)
            .run(IngestSpec.of(json.toString(), SourceFormat.JSON, table));

    assertThat(result.rows()).isEqualTo(3);
    assertThat(result.quarantined()).isEqualTo(1);
    Dataset<Row> rows = new Datasets(spark).read(result.table());
    assertThat(rows.schema().apply("id").dataType().simpleString()).isEqualTo("bigint");
    assertThat(rows.schema().apply("score").dataType().simpleString()).isEqualTo("double");
    assertThat(quarantineRaw(spark, result.quarantine().orElseThrow()))
        .containsExactly("{\"id\": 3, \"score\": oops");

    Path csv = write(dir, "inferred.csv", "a,b,c\n1,2.5,x\n2,3.5,y\n");
    IngestResult inferred =
        new IngestJob(spark, progress::add)
            .run(
                IngestSpec.of(
                    csv.toString(), SourceFormat.CSV, dir.resolve("inferred").toString()));
    assertThat(new Datasets(spark).read(inferred.table()).schema().simpleString())
        .isEqualTo("struct<a:int,b:double,c:string>");
    assertThat(inferred.quarantine()).isEmpty();
    assertThat(progress).contains("inferring column types of " + csv);
  }

  @Test
  void aRetriedLoadIsNotWrittenTwice(SparkSession spark, @TempDir Path dir) throws Exception {
    Path source = dir.resolve("src.parquet");
    spark.range(0, 20).selectExpr("id", "id * 2 AS twice").write().parquet(source.toString());
    String table = dir.resolve("t").toString();
    IngestJob job = new IngestJob(spark, progress::add);
    IngestSpec spec = IngestSpec.of(source.toString(), SourceFormat.PARQUET, table);

    IngestResult first = job.run(spec);
    IngestResult retry = job.run(spec);

    assertThat(first.alreadyIngested()).isFalse();
    assertThat(retry.alreadyIngested()).isTrue();
    assertThat(retry.table()).isEqualTo(first.table());
    assertThat(new Datasets(spark).read(DatasetRef.latest(table)).count()).isEqualTo(20);
    assertThat(new Datasets(spark).latestVersion(table)).isZero();

    // a different load (other rows) is a new version; an explicit key is honoured
    IngestResult filtered = job.run(spec.withWhere("id < 5"));
    assertThat(filtered.table().version()).isEqualTo(1);
    assertThat(filtered.rows()).isEqualTo(5);
    IngestSpec keyed =
        new IngestSpec(
            source.toString(),
            SourceFormat.PARQUET,
            table,
            null,
            WriteMode.APPEND,
            null,
            Map.of(),
            "airflow-run-2001-01-01");
    assertThat(job.run(keyed).alreadyIngested()).isFalse();
    assertThat(job.run(keyed).alreadyIngested()).isTrue();
    assertThat(new Datasets(spark).read(DatasetRef.latest(table)).count()).isEqualTo(45);
  }

  @Test
  void parquetWithSchemaCastsAndQuarantinesValuesThatDoNotFit(
      SparkSession spark, @TempDir Path dir) {
    Path source = dir.resolve("src.parquet");
    spark
        .sql("SELECT * FROM VALUES (1L, '10'), (2L, 'x'), (3000000000L, '12') AS t(id, code)")
        .write()
        .parquet(source.toString());
    IngestSchema schema =
        YamlFiles.parse(
            "columns:\n  - {name: id, type: int}\n  - {name: code, type: short}\n",
            "s.yaml",
            IngestSchema.class);
    IngestResult result =
        new IngestJob(spark, progress::add)
            .run(
                IngestSpec.of(source.toString(), SourceFormat.PARQUET, dir.resolve("t").toString())
                    .withSchema(schema));
    assertThat(result.rows()).isEqualTo(1);
    assertThat(result.quarantined()).isEqualTo(2);
    assertThat(quarantineReasons(spark, result.quarantine().orElseThrow()).values())
        .containsExactlyInAnyOrder(
            "column 'code': 'x' is not a valid short",
            "column 'id': '3000000000' is not a valid int");
  }

  @Test
  void badInputIsNamed(SparkSession spark, @TempDir Path dir) throws Exception {
    IngestJob job = new IngestJob(spark, progress::add);
    assertThatThrownBy(
            () ->
                job.run(
                    IngestSpec.of(
                        dir.resolve("missing.csv").toString(),
                        SourceFormat.CSV,
                        dir.resolve("t").toString())))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("source " + dir.resolve("missing.csv") + " does not exist");

    Path csv = write(dir, "a.csv", "a,b\n1,2\n");
    IngestSchema schema =
        YamlFiles.parse(
            "columns:\n  - {name: a, type: int}\n  - {name: zz, type: int}\n",
            "s.yaml",
            IngestSchema.class);
    assertThatThrownBy(
            () ->
                job.run(
                    IngestSpec.of(csv.toString(), SourceFormat.CSV, dir.resolve("t").toString())
                        .withSchema(schema)))
        .hasMessageContaining("source " + csv + " lacks column 'zz'; it has 'a', 'b'");
    assertThatThrownBy(
            () ->
                job.run(
                    IngestSpec.of(csv.toString(), SourceFormat.CSV, dir.resolve("t").toString())
                        .withWhere("nope > 1")))
        .hasMessageContaining("--where 'nope > 1' is not a valid condition");
    assertThat(Files.exists(dir.resolve("t"))).isFalse(); // nothing half-written
  }

  @Test
  void schemaFileErrorsNameTheFileAndLine(@TempDir Path dir) throws Exception {
    Path file = write(dir, "schema.yaml", "columns:\n  - name: a\n    type: integr\n");
    assertThatThrownBy(() -> IngestSchema.read(file))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(file + ":")
        .hasMessageContaining("unknown type 'integr' for column 'a'; valid types: boolean, byte");
    Path unknownKey =
        write(dir, "k.yaml", "columns:\n  - name: a\n    type: int\n    nulable: false\n");
    assertThatThrownBy(() -> IngestSchema.read(unknownKey))
        .hasMessageContaining(unknownKey + ":4:5: unknown key 'nulable'")
        .hasMessageContaining("valid keys: format, name, nullable, type");
    Path badDecimal = write(dir, "d.yaml", "columns:\n  - {name: a, type: 'decimal(5,7)'}\n");
    assertThatThrownBy(() -> IngestSchema.read(badDecimal))
        .hasMessageContaining("scale <= precision");
  }

  private static Map<String, String> quarantineReasons(SparkSession spark, DatasetRef quarantine) {
    Map<String, String> reasons = new java.util.TreeMap<>();
    for (Row row : new Datasets(spark).read(quarantine).collectAsList()) {
      String raw = row.getAs("raw_record");
      String key = raw.replaceAll("^\\{\"(flight|id)\":\"?(\\d+).*|^(\\d+),.*", "$2$3");
      reasons.put(key, String.join("; ", row.<String>getList(row.fieldIndex("reasons"))));
    }
    return reasons;
  }

  private static List<String> quarantineRaw(SparkSession spark, DatasetRef quarantine) {
    return new Datasets(spark)
        .read(quarantine).collectAsList().stream().map(r -> r.<String>getAs("raw_record")).toList();
  }

  private static Path write(Path dir, String name, String text) throws Exception {
    Path file = dir.resolve(name);
    Files.writeString(file, text);
    return file;
  }
}
