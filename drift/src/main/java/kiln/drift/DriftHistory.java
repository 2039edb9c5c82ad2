package kiln.drift;

import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The drift history Delta table: a row per run, column and statistic (plus a {@code drifted} row
 * per column and a {@code dataset.drifted_share} row per run), for trends over time.
 */
public final class DriftHistory {
  public static final StructType SCHEMA =
      new StructType()
          .add("run_id", DataTypes.StringType, false)
          .add("run_time", DataTypes.TimestampType, false)
          .add("reference", DataTypes.StringType, false)
          .add("reference_version", DataTypes.LongType, true)
          .add("reference_filter", DataTypes.StringType, true)
          .add("current", DataTypes.StringType, false)
          .add("current_version", DataTypes.LongType, true)
          .add("current_filter", DataTypes.StringType, true)
          .add("feature", DataTypes.StringType, false)
          .add("role", DataTypes.StringType, false)
          .add("statistic", DataTypes.StringType, false)
          .add("value", DataTypes.DoubleType, true)
          .add("verdict", DataTypes.StringType, false)
          .add("dataset_drifted", DataTypes.BooleanType, false);

  private DriftHistory() {}

  public static Dataset<Row> rows(
      SparkSession spark, DriftResult result, String runId, Instant time) {
    Timestamp at = Timestamp.from(time);
    List<Row> rows = new ArrayList<>();
    for (FeatureDrift f : result.features()) {
      for (Map.Entry<String, Double> s : f.statistics().entrySet()) {
        rows.add(
            row(
                result,
                runId,
                at,
                f.name(),
                f.role().toString().toLowerCase(Locale.ROOT),
                s.getKey(),
                s.getValue(),
                f.verdict().toString()));
      }
      rows.add(
          row(
              result,
              runId,
              at,
              f.name(),
              f.role().toString().toLowerCase(Locale.ROOT),
              "drifted",
              f.drifted() ? 1.0 : 0.0,
              f.verdict().toString()));
    }
    rows.add(
        row(
            result,
            runId,
            at,
            "*",
            "dataset",
            "drifted_share",
            result.driftedShare(),
            result.drifted() ? "DRIFTED" : "STABLE"));
    return spark.createDataFrame(rows, SCHEMA);
  }

  /**
   * Appends the result to the history table (created if missing); returns the table's new version.
   */
  public static long append(
      SparkSession spark, String table, DriftResult result, String runId, Instant time) {
    return new Datasets(spark)
        .write(
            rows(spark, result, runId, time).coalesce(1),
            table,
            new WriteOptions(
                WriteMode.APPEND, "drift-history-" + runId, Map.of("kiln.job", "drift")))
        .version();
  }

  private static Row row(
      DriftResult result,
      String runId,
      Timestamp at,
      String feature,
      String role,
      String statistic,
      Double value,
      String verdict) {
    return RowFactory.create(
        runId,
        at,
        result.reference().dataset().table(),
        result.reference().dataset().version(),
        result.reference().where(),
        result.current().dataset().table(),
        result.current().dataset().version(),
        result.current().where(),
        feature,
        role,
        statistic,
        value,
        verdict,
        result.drifted());
  }
}
