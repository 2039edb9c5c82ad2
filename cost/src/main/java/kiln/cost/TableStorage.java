package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * What keeping a table costs: the bytes under its directory (data files of every version time
 * travel can still read, and the Delta log: what the store bills, not only the latest snapshot),
 * priced per GB-month. One cost table row per table and UTC day, so a storage check scheduled daily
 * (or re-run) never counts a day twice.
 */
public final class TableStorage {
  /** The job name of storage rows in the cost table. */
  public static final String JOB = "storage";

  private TableStorage() {}

  /** The bytes stored under {@code table}, through Hadoop's file system (local, s3a, hdfs). */
  public static long bytes(SparkSession spark, String table) {
    requireNonNull(spark, "spark is null");
    requireNonNull(table, "table is null");
    Path path = new Path(table);
    try {
      FileSystem fs = path.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(path)) {
        throw Errors.notFound(
            "table " + table + " does not exist", "give the path of a table Kiln wrote");
      }
      return fs.getContentSummary(path).getLength();
    } catch (FileNotFoundException e) {
      throw Errors.notFound(
          "table " + table + " does not exist", "give the path of a table Kiln wrote", e);
    } catch (IOException e) {
      throw Errors.environment(
          "cannot measure " + table + ": " + e.getMessage(),
          "check the store is reachable and readable",
          e);
    }
  }

  /**
   * The cost record of keeping {@code bytes} of {@code table} for {@code days} from the start of
   * {@code now}'s UTC day; tagged {@code table} and {@code tags}.
   */
  public static CostRecord record(
      String table,
      long bytes,
      double days,
      Map<String, String> tags,
      PriceCatalog catalog,
      Instant now) {
    requireNonNull(table, "table is null");
    LocalDate day = now.atZone(ZoneOffset.UTC).toLocalDate();
    Instant start = day.atStartOfDay(ZoneOffset.UTC).toInstant();
    Cost cost = Pricing.storage(bytes, days, catalog);
    Map<String, String> all = new TreeMap<>(tags == null ? Map.of() : tags);
    all.put("table", table);
    Usage none = new Usage(start, start, 0, 0, 0, null, 0, 0, 0, 0, 0, 0, 0, 0, List.of());
    return new CostRecord(JOB, "storage " + day + " " + table, all, none, List.of(), bytes, cost);
  }
}
