package kiln.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.TableVersion;
import kiln.core.YamlFiles;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, items 1 and 5 where no process is needed: a load interrupted between its two commits,
 * and bad source files (truncated Parquet, a CSV in another encoding, a line that is not JSON, an
 * empty directory, a file that changes while it is read): quarantined, or refused as bad input
 * naming the file, with nothing written.
 */
@ExtendWith(SharedSpark.class)
class IngestFaultsTest {
  private final List<String> progress = new ArrayList<>();

  private static final IngestSchema SCHEMA =
      YamlFiles.parse(
          "columns:\n  - {name: id, type: long, nullable: false}\n  - {name: city, type: string}\n",
          "schema.yaml",
          IngestSchema.class);

  @Test
  void aLoadKilledBetweenItsTableAndQuarantineCommitsIsCompletedByItsRerun(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Path source = Files.writeString(dir.resolve("a.csv"), "id,city\n1,Oslo\nx,Rome\n3,Lima\n");
    String table = dir.resolve("t").toString();
    IngestSpec spec = IngestSpec.of(source.toString(), SourceFormat.CSV, table).withSchema(SCHEMA);
    new IngestJob(spark, progress::add).run(spec);
    // what a driver killed after the table's commit and before the quarantine's leaves behind
    deleteTree(Path.of(table + "_quarantine"));

    IngestResult rerun = new IngestJob(spark, progress::add).run(spec);

    Datasets datasets = new Datasets(spark);
    assertThat(datasets.history(table)).extracting(TableVersion::version).containsExactly(0L);
    assertThat(datasets.read(DatasetRef.latest(table)).count()).isEqualTo(2);
    assertThat(rerun.quarantined()).isEqualTo(1);
    Row quarantined = datasets.read(DatasetRef.latest(table + "_quarantine")).first();
    assertThat(quarantined.<String>getAs("raw_record")).contains("\"id\":\"x\"");
    assertThat(quarantined.<Long>getAs("table_version")).isZero();
    assertThat(progress).anyMatch(line -> line.contains("were not: writing them to"));
    // and a third run writes nothing at all
    IngestResult third = new IngestJob(spark, progress::add).run(spec);
    assertThat(third.alreadyIngested()).isTrue();
    assertThat(datasets.history(table + "_quarantine"))
        .extracting(TableVersion::version)
        .containsExactly(0L);
  }

  @Test
  void aTruncatedParquetFileIsNamedAndNothingIsWritten(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Path source = dir.resolve("landing");
    spark
        .range(100)
        .selectExpr("id", "cast(id as string) as city")
        .repartition(2)
        .write()
        .parquet(source.toString());
    String table = dir.resolve("t").toString();
    new IngestJob(spark, progress::add)
        .run(IngestSpec.of(source.toString(), SourceFormat.PARQUET, table));
    Path truncated;
    try (Stream<Path> files = Files.list(source)) {
      truncated =
          files.filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().get();
    }
    try (RandomAccessFile file = new RandomAccessFile(truncated.toFile(), "rw")) {
      file.setLength(file.length() / 2);
    }
    Files.deleteIfExists(truncated.resolveSibling("." + truncated.getFileName() + ".crc"));

    for (IngestSpec spec :
        List.of(
            IngestSpec.of(source.toString(), SourceFormat.PARQUET, table),
            IngestSpec.of(source.toString(), SourceFormat.PARQUET, table).withSchema(SCHEMA))) {
      assertThatThrownBy(() -> new IngestJob(spark, progress::add).run(spec))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(truncated.getFileName().toString())
          .hasMessageContaining("is not a readable parquet file")
          .hasMessageContaining("nothing was written");
    }
    Datasets datasets = new Datasets(spark);
    assertThat(datasets.history(table)).extracting(TableVersion::version).containsExactly(0L);
    assertThat(Files.exists(Path.of(table + "_quarantine"))).isFalse();
  }

  @Test
  void aCsvInAnotherEncodingIsQuarantinedWithTheReason(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Path source = dir.resolve("cities.csv");
    Files.write(
        source, "id,city\n1,Oslo\n2,Zürich\n3,Malmö\n".getBytes(StandardCharsets.ISO_8859_1));
    String table = dir.resolve("t").toString();

    IngestResult result =
        new IngestJob(spark, progress::add)
            .run(IngestSpec.of(source.toString(), SourceFormat.CSV, table).withSchema(SCHEMA));

    assertThat(result.rows()).isEqualTo(1);
    assertThat(result.quarantined()).isEqualTo(2);
    Datasets datasets = new Datasets(spark);
    assertThat(
            datasets.read(result.quarantine().orElseThrow()).collectAsList().stream()
                .map(row -> row.getList(row.fieldIndex("reasons")).toString()))
        .allMatch(reasons -> reasons.contains("is not valid UTF-8 text"))
        .allMatch(reasons -> reasons.contains("--option encoding=NAME"));
    // read with the file's encoding, every row is fine
    IngestResult latin =
        new IngestJob(spark, progress::add)
            .run(
                new IngestSpec(
                    source.toString(),
                    SourceFormat.CSV,
                    dir.resolve("t2").toString(),
                    SCHEMA,
                    kiln.core.WriteMode.APPEND,
                    null,
                    java.util.Map.of("encoding", "ISO-8859-1"),
                    null));
    assertThat(latin.rows()).isEqualTo(3);
    assertThat(latin.quarantined()).isZero();
    assertThat(datasets.read(latin.table()).filter("id = 2").first().<String>getAs("city"))
        .isEqualTo("Zürich");
  }

  @Test
  void aLineThatIsNotJsonIsQuarantinedAndTheRestLoaded(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Path source =
        Files.writeString(
            dir.resolve("a.json"),
            "{\"id\": 1, \"city\": \"Oslo\"}\nthis is not json\n{\"id\": 3, \"city\": \"Lima\"}\n");
    IngestResult result =
        new IngestJob(spark, progress::add)
            .run(
                IngestSpec.of(source.toString(), SourceFormat.JSON, dir.resolve("t").toString())
                    .withSchema(SCHEMA));
    assertThat(result.rows()).isEqualTo(2);
    assertThat(result.quarantined()).isEqualTo(1);
    Row bad = new Datasets(spark).read(result.quarantine().orElseThrow()).first();
    assertThat(bad.<String>getAs("raw_record")).isEqualTo("this is not json");
    assertThat(bad.getList(bad.fieldIndex("reasons")).toString()).contains("malformed json record");
  }

  @Test
  void anEmptyDirectoryIsBadInputAndCreatesNoTable(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Path empty = Files.createDirectories(dir.resolve("landing"));
    String table = dir.resolve("t").toString();
    for (SourceFormat format : SourceFormat.values()) {
      assertThatThrownBy(
              () ->
                  new IngestJob(spark, progress::add)
                      .run(IngestSpec.of(empty.toString(), format, table)))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("source " + empty + " has no data files");
    }
    assertThat(Files.exists(Path.of(table))).isFalse();
  }

  @Test
  void aFileThatChangesWhileItIsReadIsNamedAndNothingIsWritten(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Path source = Files.writeString(dir.resolve("a.csv"), "id,city\n1,Oslo\n2,Rome\n");
    String table = dir.resolve("t").toString();
    IngestSpec spec = IngestSpec.of(source.toString(), SourceFormat.CSV, table).withSchema(SCHEMA);
    // the writer appends again while Kiln reads: at the moment Kiln has parsed the records
    IngestJob job =
        new IngestJob(
            spark,
            line -> {
              if (line.startsWith("parsing and typing")) {
                try {
                  Files.writeString(source, "4,Kyiv\n", java.nio.file.StandardOpenOption.APPEND);
                  source.toFile().setLastModified(System.currentTimeMillis() + 5_000);
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              }
            });

    assertThatThrownBy(() -> job.run(spec))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("source file(s) file:" + source)
        .hasMessageContaining("changed while they were read")
        .hasMessageContaining("nothing was written");
    assertThat(Files.exists(Path.of(table))).isFalse();
    // once the file is still, the load goes through, with every line
    IngestResult later = new IngestJob(spark, progress::add).run(spec);
    assertThat(later.rows()).isEqualTo(3);
  }

  private static void deleteTree(Path tree) throws Exception {
    try (Stream<Path> files = Files.walk(tree)) {
      for (Path path : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
