package kiln.tests;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17, item 5 through the real command: a truncated Parquet file and an empty directory are
 * refused with exit 2 and a message naming them, the table left at its version; a CSV in another
 * encoding is loaded with its undecodable records in quarantine. The other bad files (a line that
 * is not JSON, a file changing while it is read) are unit tests in ingest (IngestFaultsTest).
 */
@ExtendWith(SharedSpark.class)
class BadFilesIT {
  static final Duration TIMEOUT = Duration.ofMinutes(5);
  @TempDir static Path dir;

  static List<String> ingest(Path source, String format, Path table) {
    return List.of(
        "ingest",
        "--source",
        source.toString(),
        "--format",
        format,
        "--output",
        table.toString(),
        "--master",
        "local[1]",
        "--conf",
        "spark.sql.shuffle.partitions=2",
        "--conf",
        "spark.ui.enabled=false",
        "--workdir",
        dir.resolve("work").toString());
  }

  @Test
  void badSourceFilesExitTwoNamingTheFileOrGoToQuarantineAndNothingIsHalfWritten(SparkSession spark)
      throws Exception {
    Path logs = Path.of("target", "faults-logs", "bad-files").toAbsolutePath();
    Path landing = dir.resolve("landing");
    spark
        .range(200)
        .selectExpr("id", "cast(id % 17 as int) as amount")
        .repartition(2)
        .write()
        .parquet(landing.toString());
    Path table = dir.resolve("tables/amounts");
    // a first load, so that the table has a version to stay at
    KilnProcess.Result first = KilnProcess.run(logs, TIMEOUT, ingest(landing, "parquet", table));
    assertThat(first.exitCode()).as(first.output()).isZero();
    Path truncated;
    try (Stream<Path> files = Files.list(landing)) {
      truncated =
          files.filter(f -> f.getFileName().toString().endsWith(".parquet")).findFirst().get();
    }
    try (RandomAccessFile file = new RandomAccessFile(truncated.toFile(), "rw")) {
      file.setLength(file.length() / 2);
    }
    Files.deleteIfExists(truncated.resolveSibling("." + truncated.getFileName() + ".crc"));

    KilnProcess.Result parquet = KilnProcess.run(logs, TIMEOUT, ingest(landing, "parquet", table));
    assertThat(parquet.exitCode()).as(parquet.output()).isEqualTo(2);
    assertThat(parquet.err())
        .contains("kiln: error: source file file:" + truncated + " is not a readable parquet file")
        .contains("nothing was written")
        .contains("fix: replace the file");
    // the innermost reason, not Spark's job-failure wrapper
    assertThat(parquet.err().substring(parquet.err().indexOf("kiln: error: ")))
        .contains("is not a Parquet file")
        .doesNotContain("Job aborted")
        .doesNotContain("\tat ");
    assertThat(TableState.of(spark, table).versions()).isEqualTo(1);

    Path empty = Files.createDirectories(dir.resolve("empty"));
    KilnProcess.Result none = KilnProcess.run(logs, TIMEOUT, ingest(empty, "csv", table));
    assertThat(none.exitCode()).as(none.output()).isEqualTo(2);
    assertThat(none.err()).contains("source " + empty + " has no data files");
    assertThat(TableState.of(spark, table).versions()).isEqualTo(1);

    Path latin = Files.createDirectories(dir.resolve("latin"));
    Files.write(
        latin.resolve("cities.csv"),
        "id,city\n1,Oslo\n2,Zürich\n3,Malmö\n".getBytes(StandardCharsets.ISO_8859_1));
    Path cities = dir.resolve("tables/cities");
    Path schema = dir.resolve("cities.yaml");
    Files.writeString(
        schema,
        "columns:\n  - {name: id, type: long, nullable: false}\n  - {name: city, type: string}\n");
    List<String> args = new java.util.ArrayList<>(ingest(latin, "csv", cities));
    args.addAll(List.of("--schema", schema.toString()));
    KilnProcess.Result encoded = KilnProcess.run(logs, TIMEOUT, args);
    assertThat(encoded.exitCode()).as(encoded.output()).isZero();
    assertThat(encoded.out() + encoded.err())
        .contains("Ingested 1 rows into " + cities)
        .contains("Quarantined 2 rows into " + cities + "_quarantine");
    assertThat(
            spark
                .read()
                .format("delta")
                .load(cities + "_quarantine")
                .selectExpr("concat_ws(' ', reasons)")
                .as(org.apache.spark.sql.Encoders.STRING())
                .collectAsList())
        .hasSize(2)
        .allMatch(reasons -> reasons.contains("is not valid UTF-8 text"));
  }
}
