package kiln.tests;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.TimestampType;

/**
 * What a Delta table holds, as a reader sees it: its committed versions, its rows at the latest one
 * and a checksum of their content (the sum of a 64-bit hash of each row as JSON, so the order of
 * rows does not matter and a duplicated row does). Columns of the session's timestamp type (the
 * moment a row was written: {@code quarantined_at}, {@code checked_at}) are left out of the
 * checksum, since two runs of the same job differ in them; data timestamps are {@code
 * timestamp_ntz}.
 */
record TableState(boolean exists, int versions, long latest, long rows, String checksum) {
  static final TableState ABSENT = new TableState(false, 0, -1, 0, "");

  /** The same content: existence, number of commits, rows and checksum (not the version number). */
  boolean sameAs(TableState other) {
    return exists == other.exists
        && versions == other.versions
        && rows == other.rows
        && checksum.equals(other.checksum);
  }

  @Override
  public String toString() {
    return exists ? versions + " commit(s), " + rows + " rows, checksum " + checksum : "absent";
  }

  static TableState of(SparkSession spark, Path table) {
    // another process wrote the table, and tests put older copies back: read the log afresh
    DeltaLog.clearCache();
    Path log = table.resolve("_delta_log");
    if (!Files.isDirectory(log)) {
      return ABSENT;
    }
    int commits;
    try (Stream<Path> files = Files.list(log)) {
      commits =
          (int) files.filter(f -> f.getFileName().toString().matches("\\d{20}\\.json")).count();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    if (commits == 0) {
      return ABSENT;
    }
    Dataset<Row> rows = spark.read().format("delta").load(table.toString());
    List<String> kept = new ArrayList<>();
    for (StructField field : rows.schema().fields()) {
      if (!(field.dataType() instanceof TimestampType)) {
        kept.add("`" + field.name() + "`");
      }
    }
    Row totals =
        rows.selectExpr(
                "count(*)",
                "cast(coalesce(sum(cast(xxhash64(to_json(struct("
                    + String.join(", ", kept)
                    + "))) as decimal(38, 0))), 0) as string)")
            .first();
    long latest =
        spark
            .sql("describe history delta.`" + table + "`")
            .selectExpr("max(version)")
            .first()
            .getLong(0);
    return new TableState(true, commits, latest, totals.getLong(0), totals.getString(1));
  }

  /** Copies a table's directory (nothing when it does not exist). */
  static void copy(Path from, Path to) throws IOException {
    delete(to);
    if (!Files.exists(from)) {
      return;
    }
    try (Stream<Path> files = Files.walk(from)) {
      for (Path source : (Iterable<Path>) files::iterator) {
        Path target = to.resolve(from.relativize(source).toString());
        if (Files.isDirectory(source)) {
          Files.createDirectories(target);
        } else {
          Files.copy(source, target, StandardCopyOption.COPY_ATTRIBUTES);
        }
      }
    }
  }

  static void delete(Path tree) throws IOException {
    if (!Files.exists(tree)) {
      return;
    }
    try (Stream<Path> files = Files.walk(tree)) {
      for (Path path : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
