package kiln.tests;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
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
    return of(spark, table, Set.of());
  }

  /**
   * The table's state with the {@code excluded} columns also left out of the checksum: columns two
   * runs of the same job fill differently (an LLM row's latency, the run's id).
   */
  static TableState of(SparkSession spark, Path table, Set<String> excluded) {
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
    Row totals = totals(spark.read().format("delta").load(table.toString()), excluded);
    long latest =
        spark
            .sql("describe history delta.`" + table + "`")
            .selectExpr("max(version)")
            .first()
            .getLong(0);
    return new TableState(true, commits, latest, totals.getLong(0), totals.getString(1));
  }

  /** What one commit of an append-only table added: its rows and their checksum. */
  record Commit(long version, long rows, BigInteger checksum) {
    @Override
    public String toString() {
      return "v" + version + ": " + rows + " rows, checksum " + checksum;
    }
  }

  /**
   * What each commit of an append-only table added, from its first version: the differences of the
   * row counts and checksums (a sum of row hashes) between consecutive versions.
   */
  static List<Commit> commits(SparkSession spark, Path table, Set<String> excluded) {
    DeltaLog.clearCache();
    long latest =
        spark
            .sql("describe history delta.`" + table + "`")
            .selectExpr("max(version)")
            .first()
            .getLong(0);
    List<Commit> commits = new ArrayList<>();
    long rows = 0;
    BigInteger checksum = BigInteger.ZERO;
    for (long version = 0; version <= latest; version++) {
      Row totals =
          totals(
              spark.read().format("delta").option("versionAsOf", version).load(table.toString()),
              excluded);
      BigInteger sum = new BigInteger(totals.getString(1));
      commits.add(new Commit(version, totals.getLong(0) - rows, sum.subtract(checksum)));
      rows = totals.getLong(0);
      checksum = sum;
    }
    return commits;
  }

  /** The row count and the checksum of the rows' content (session timestamps left out). */
  private static Row totals(Dataset<Row> rows, Set<String> excluded) {
    List<String> kept = new ArrayList<>();
    for (StructField field : rows.schema().fields()) {
      if (!(field.dataType() instanceof TimestampType) && !excluded.contains(field.name())) {
        kept.add("`" + field.name() + "`");
      }
    }
    return rows.selectExpr(
            "count(*)",
            "cast(coalesce(sum(cast(xxhash64(to_json(struct("
                + String.join(", ", kept)
                + "))) as decimal(38, 0))), 0) as string)")
        .first();
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
