package kiln.contracts.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.contracts.MetricHistory;
import kiln.contracts.MetricValue;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The metric history: a Delta table with one row per Deequ metric per check, keyed by dataset and
 * dataset version. Checking the same version again writes nothing twice.
 */
public final class MetricsRepository {
  public static final StructType SCHEMA =
      new StructType()
          .add("dataset", DataTypes.StringType, false)
          .add("dataset_version", DataTypes.LongType, false)
          .add("contract_id", DataTypes.StringType, false)
          .add("contract_version", DataTypes.StringType, false)
          .add("entity", DataTypes.StringType, false)
          .add("instance", DataTypes.StringType, false)
          .add("name", DataTypes.StringType, false)
          .add("value", DataTypes.DoubleType, false)
          .add("checked_at", DataTypes.TimestampType, false);

  /** A metric's value at one version of the dataset. */
  public record Point(long version, double value) {}

  private final SparkSession spark;
  private final Datasets datasets;
  private final String table;

  public MetricsRepository(SparkSession spark, String table) {
    this.spark = spark;
    this.datasets = new Datasets(spark);
    this.table = table;
  }

  public String table() {
    return table;
  }

  /** Appends the metrics of one check of {@code pinned}; returns the repository's new version. */
  public DatasetRef save(
      DatasetRef pinned,
      String contractId,
      String contractVersion,
      List<MetricValue> metrics,
      Instant checkedAt) {
    List<Row> rows = new ArrayList<>();
    for (MetricValue m : metrics) {
      rows.add(
          RowFactory.create(
              pinned.table(),
              pinned.version(),
              contractId,
              contractVersion,
              m.entity(),
              m.instance(),
              m.name(),
              m.value(),
              Timestamp.from(checkedAt)));
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put("kiln.job", "contracts check");
    metadata.put("kiln.dataset", pinned.toString());
    String key = "contracts-metrics:" + contractId + ":" + contractVersion + ":" + pinned;
    return datasets
        .write(
            spark.createDataFrame(rows, SCHEMA),
            table,
            new WriteOptions(WriteMode.APPEND, key, metadata))
        .written();
  }

  /**
   * Every metric recorded for versions of the dataset before {@code pinned}: the latest check of
   * each version.
   */
  public Map<String, List<Point>> before(DatasetRef pinned) {
    Map<String, List<Point>> series = new LinkedHashMap<>();
    if (!datasets.exists(table)) {
      return series;
    }
    List<Row> rows =
        spark
            .read()
            .format("delta")
            .load(table)
            .filter(
                col("dataset")
                    .equalTo(lit(pinned.table()))
                    .and(col("dataset_version").lt(lit(pinned.version()))))
            .select("dataset_version", "name", "instance", "value", "checked_at")
            .collectAsList();
    Map<String, TreeMap<Long, Row>> latest = new LinkedHashMap<>();
    for (Row row : rows) {
      String key = key(row.getString(1), row.getString(2));
      TreeMap<Long, Row> byVersion = latest.computeIfAbsent(key, k -> new TreeMap<>());
      Row seen = byVersion.get(row.getLong(0));
      if (seen == null || seen.getTimestamp(4).before(row.getTimestamp(4))) {
        byVersion.put(row.getLong(0), row);
      }
    }
    latest.forEach(
        (key, byVersion) -> {
          List<Point> points = new ArrayList<>();
          byVersion.forEach((version, row) -> points.add(new Point(version, row.getDouble(3))));
          points.sort(Comparator.comparingLong(Point::version));
          series.put(key, points);
        });
    return series;
  }

  public static MetricHistory history(Map<String, List<Point>> before) {
    return (name, instance) ->
        before.getOrDefault(key(name, instance), List.of()).stream().map(Point::value).toList();
  }

  public static String key(String name, String instance) {
    return name + "|" + instance;
  }
}
