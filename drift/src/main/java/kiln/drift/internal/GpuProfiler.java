package kiln.drift.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiln.core.Errors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;

/**
 * The gpu profile's profiler: the same profiles as {@link Profiler}, from built-in Spark
 * expressions that the RAPIDS Accelerator runs on a GPU, instead of a JVM fold over the rows (which
 * no GPU can run). Per side: ONE aggregate for the counts and moments of every column, then per
 * column the counts per distinct value (a group-by), and, for a numeric column with more distinct
 * values than {@code exactLimit}, {@code approx_percentile} at {@code quantiles} evenly spaced
 * ranks instead of the KLL sketch.
 *
 * <p>Equal to {@link Profiler}'s profiles where those are exact (counts, and distributions of up to
 * {@code exactLimit} distinct values; moments up to floating-point summation order). Beyond it the
 * distribution is {@code quantiles} points of equal weight, with a rank error of {@code 1 /
 * quantiles + 1 / accuracy} (Spark's approx_percentile guarantees {@code 1 / accuracy} on a CPU;
 * RAPIDS computes it with a t-digest, whose error is not bounded the same way: see
 * DriftGpuPathTest). A categorical column with more than {@code exactLimit} categories spills to
 * the frequent-items sketch as on the CPU path, fed with the exact counts, which all travel to the
 * driver.
 *
 * <p>Used only in a session that runs RAPIDS: on a CPU it makes more passes over the data than the
 * one-pass fold.
 */
public final class GpuProfiler {
  /** Spark's default accuracy of approx_percentile: a rank error of at most 1/10,000 on a CPU. */
  static final int ACCURACY = 10_000;

  private final int exactLimit;
  private final int sketchK;
  private final int quantiles;

  public GpuProfiler(int exactLimit, int sketchK) {
    this.exactLimit = exactLimit;
    this.sketchK = sketchK;
    // as many points as the KLL sketch's k (1,000 by default: 0.1% of rank per point, finer than
    // the sketch's own 0.3%), at most 10,000
    this.quantiles = Math.min(sketchK, ACCURACY);
  }

  /** The rank error of a numeric distribution held as quantiles. */
  double quantileError() {
    return 1.0 / quantiles + 1.0 / ACCURACY;
  }

  /** As {@link Profiler#profile}. */
  public TableProfile profile(Dataset<Row> data, List<String> columns, Set<String> categorical) {
    List<ColumnReader> readers = new ArrayList<>();
    List<Column> values = new ArrayList<>();
    StructField[] fields = data.schema().fields();
    for (String name : columns) {
      StructField field = field(fields, name);
      ColumnReader reader =
          field == null
              ? null
              : ColumnReader.of(name, readers.size(), field.dataType(), categorical.contains(name));
      if (reader == null) {
        throw Errors.badInput(
            "column "
                + name
                + (field == null ? " is missing" : " of type " + field.dataType().simpleString())
                + " cannot be profiled",
            "leave the column out of features, or list it under exclude in the drift config");
      }
      readers.add(reader);
      values.add(value(col(quote(name)), reader, field.dataType()).as("c" + readers.size()));
    }
    // one projection that every query below reads: numbers as doubles, categories as strings
    Dataset<Row> projected = data.select(values.toArray(Column[]::new));
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(count(lit(1)));
    for (int i = 0; i < readers.size(); i++) {
      Column v = col("c" + (i + 1));
      aggregates.add(count(v));
      if (!readers.get(i).categorical) {
        Column finite = finite(v);
        Column finiteValue = when(finite, v);
        aggregates.add(count(when(functions.isnan(v), 1)));
        aggregates.add(count(when(v.equalTo(lit(Double.POSITIVE_INFINITY)), 1)));
        aggregates.add(count(when(v.equalTo(lit(Double.NEGATIVE_INFINITY)), 1)));
        aggregates.add(count(finiteValue));
        aggregates.add(functions.avg(finiteValue));
        aggregates.add(functions.var_pop(finiteValue));
        aggregates.add(functions.min(finiteValue));
        aggregates.add(functions.max(finiteValue));
      }
    }
    Row totals =
        projected
            .agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            // not first(): a collect with a limit plans CollectLimitExec, which RAPIDS 25.04 leaves
            // on the CPU
            .collectAsList()
            .get(0);
    long rows = totals.getLong(0);
    Map<String, ColumnProfile> profiles = new LinkedHashMap<>();
    int at = 1;
    for (int i = 0; i < readers.size(); i++) {
      ColumnReader reader = readers.get(i);
      String c = "c" + (i + 1);
      long nonNull = totals.getLong(at++);
      if (reader.categorical) {
        CategoricalProfile profile = CategoricalProfile.ofCounts(exactLimit, rows, rows - nonNull);
        Iterator<Row> groups = groups(projected, col(c).isNotNull(), c);
        while (groups.hasNext()) {
          Row g = groups.next();
          profile.addCount(g.getString(0), g.getLong(1));
        }
        profiles.put(reader.name, profile);
      } else {
        long nans = totals.getLong(at++);
        long positive = totals.getLong(at++);
        long negative = totals.getLong(at++);
        long finite = totals.getLong(at++);
        double mean = finite == 0 ? 0 : totals.getDouble(at);
        double variance = finite == 0 ? 0 : totals.getDouble(at + 1);
        double min = finite == 0 ? 0 : totals.getDouble(at + 2);
        double max = finite == 0 ? 0 : totals.getDouble(at + 3);
        at += 4;
        NumericProfile profile =
            NumericProfile.ofAggregates(
                exactLimit,
                sketchK,
                rows,
                rows - nonNull,
                nans,
                positive,
                negative,
                finite,
                mean,
                variance * finite,
                min,
                max);
        if (finite > 0) {
          distribution(projected, col(c), c, profile);
        }
        profiles.put(reader.name, profile);
      }
    }
    return new TableProfile(rows, profiles);
  }

  /**
   * The finite values' distribution: exact counts while there are at most {@code exactLimit}
   * distinct values (read until one more turns up), else approx_percentile's quantiles.
   */
  private void distribution(Dataset<Row> projected, Column v, String name, NumericProfile profile) {
    Iterator<Row> groups = groups(projected, finite(v), name);
    List<Row> kept = new ArrayList<>();
    while (groups.hasNext() && kept.size() <= exactLimit) {
      kept.add(groups.next());
    }
    if (kept.size() <= exactLimit) {
      kept.forEach(g -> profile.addCount(g.getDouble(0), g.getLong(1)));
      return;
    }
    double[] ranks = new double[quantiles];
    for (int i = 0; i < quantiles; i++) {
      // the middle of each of the equal rank intervals the point stands for
      ranks[i] = (i + 0.5) / quantiles;
    }
    Row row =
        projected
            .where(finite(v))
            .agg(functions.percentile_approx(v, lit(ranks), lit(ACCURACY)))
            .collectAsList()
            .get(0);
    List<Double> points = row.getList(0);
    profile.setQuantiles(
        points.stream().mapToDouble(Double::doubleValue).toArray(), quantileError());
  }

  /** Counts per distinct value of column {@code name} over the rows where {@code where} holds. */
  private static Iterator<Row> groups(Dataset<Row> projected, Column where, String name) {
    // toLocalIterator, not a limit (CollectLimitExec stays on the CPU in RAPIDS 25.04)
    return projected.where(where).groupBy(col(name)).count().toLocalIterator();
  }

  private static Column finite(Column v) {
    // NaN compares above every double in Spark, so this also leaves NaN out
    return v.geq(lit(-Double.MAX_VALUE)).and(v.leq(lit(Double.MAX_VALUE)));
  }

  /**
   * The value {@link ColumnReader} reads, as an expression: numbers as doubles (dates as days and
   * timestamps as seconds since the epoch), categories as the strings the CPU path counts.
   */
  private static Column value(Column c, ColumnReader reader, DataType type) {
    Column number =
        switch (reader.source) {
          case DATE -> functions.unix_date(c).cast(DataTypes.LongType);
          // local microseconds, as the CPU path reads them (a cast to timestamp would shift them
          // by the session's time zone)
          case TIMESTAMP ->
              type.equals(DataTypes.TimestampNTZType)
                  ? functions.expr(
                      "timestampdiff(MICROSECOND, TIMESTAMP_NTZ'1970-01-01 00:00:00', "
                          + quote(reader.name)
                          + ")")
                  : functions.unix_micros(c);
          default -> c;
        };
    if (!reader.categorical) {
      return reader.source == ColumnReader.Source.TIMESTAMP
          ? number.cast(DataTypes.DoubleType).divide(lit(1e6))
          : number.cast(DataTypes.DoubleType);
    }
    return switch (reader.source) {
      case STRING -> c;
      case BOOLEAN -> c.cast(DataTypes.StringType);
      case BYTE, SHORT, INT, LONG, DATE, TIMESTAMP ->
          number.cast(DataTypes.LongType).cast(DataTypes.StringType);
      default -> c.cast(DataTypes.DoubleType).cast(DataTypes.StringType);
    };
  }

  private static StructField field(StructField[] fields, String name) {
    for (StructField f : fields) {
      if (f.name().equals(name)) {
        return f;
      }
    }
    return null;
  }

  private static String quote(String name) {
    return "`" + name.replace("`", "``") + "`";
  }
}
