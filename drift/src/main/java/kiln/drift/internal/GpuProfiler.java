package kiln.drift.internal;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
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
 * no GPU can run). Per side, four queries whatever the number of columns: (1) one aggregate for the
 * counts, means and ranges; (2) one for the squared deviations from those means; (3) the counts per
 * distinct value of every column at once (the columns exploded into one long table, grouped, and
 * kept for the columns with at most {@code exactLimit} distinct values, counted per column by an
 * aggregate joined back); (4) for the numeric columns with more, {@code approx_percentile} at
 * {@code quantiles} evenly spaced ranks instead of the KLL sketch.
 *
 * <p>Equal to {@link Profiler}'s profiles where those are exact (counts, and distributions of up to
 * {@code exactLimit} distinct values; moments up to floating-point summation order). Beyond it the
 * distribution is {@code quantiles} points of equal weight, with a rank error of {@code 1 /
 * quantiles + 1 / accuracy} (Spark's approx_percentile guarantees {@code 1 / accuracy} on a CPU;
 * RAPIDS computes it with a t-digest, whose error is not bounded the same way: measure on a GPU). A
 * categorical column with more than {@code exactLimit} categories spills to the frequent-items
 * sketch as on the CPU path, fed with the exact counts, which all travel to the driver.
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
      values.add(value(col(quote(name)), reader, field.dataType()).as(name(readers.size() - 1)));
    }
    // one projection that every query below reads: numbers as doubles, categories as strings
    Dataset<Row> projected = data.select(values.toArray(Column[]::new));
    int n = readers.size();

    // 1. counts, means and ranges of every column
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(count(lit(1)));
    for (int i = 0; i < n; i++) {
      Column v = col(name(i));
      aggregates.add(count(v));
      if (!readers.get(i).categorical) {
        Column finiteValue = when(finite(v), v);
        aggregates.add(count(when(functions.isnan(v), 1)));
        aggregates.add(count(when(v.equalTo(lit(Double.POSITIVE_INFINITY)), 1)));
        aggregates.add(count(when(v.equalTo(lit(Double.NEGATIVE_INFINITY)), 1)));
        aggregates.add(count(finiteValue));
        aggregates.add(functions.avg(finiteValue));
        aggregates.add(functions.min(finiteValue));
        aggregates.add(functions.max(finiteValue));
      }
    }
    Row totals = single(projected, aggregates);
    long rows = totals.getLong(0);
    Map<String, ColumnProfile> profiles = new LinkedHashMap<>();
    double[] means = new double[n];
    List<Column> deviations = new ArrayList<>();
    List<Integer> spread = new ArrayList<>();
    int at = 1;
    for (int i = 0; i < n; i++) {
      ColumnReader reader = readers.get(i);
      long nonNull = totals.getLong(at++);
      if (reader.categorical) {
        profiles.put(reader.name, CategoricalProfile.ofCounts(exactLimit, rows, rows - nonNull));
        continue;
      }
      long nans = totals.getLong(at++);
      long positive = totals.getLong(at++);
      long negative = totals.getLong(at++);
      long finite = totals.getLong(at++);
      means[i] = finite == 0 ? 0 : totals.getDouble(at);
      double min = finite == 0 ? 0 : totals.getDouble(at + 1);
      double max = finite == 0 ? 0 : totals.getDouble(at + 2);
      at += 3;
      profiles.put(
          reader.name,
          NumericProfile.ofAggregates(
              exactLimit,
              sketchK,
              rows,
              rows - nonNull,
              nans,
              positive,
              negative,
              finite,
              means[i],
              0,
              min,
              max));
      if (finite > 0) {
        Column v = col(name(i));
        Column d = when(finite(v), v.minus(lit(means[i])));
        deviations.add(functions.sum(d));
        deviations.add(functions.sum(d.multiply(d)));
        spread.add(i);
      }
    }

    // 2. squared deviations from the means of step 1 (two passes, not var_pop, which RAPIDS 25.04
    // leaves on the CPU; and not sums of squares, which cancel catastrophically for timestamps)
    if (!spread.isEmpty()) {
      Row sums = single(projected, deviations);
      for (int k = 0; k < spread.size(); k++) {
        NumericProfile profile = (NumericProfile) profiles.get(readers.get(spread.get(k)).name);
        double sum = sums.getDouble(2 * k);
        double squares = sums.getDouble(2 * k + 1);
        // the corrected two-pass formula: the first sum is the rounding error of the mean
        profile.setM2(Math.max(0, squares - sum * sum / profile.finite()));
      }
    }

    // 3. counts per value of every column in one long table, kept for the columns with at most
    // exactLimit distinct values (categorical columns: all, as the CPU path spills them itself)
    List<Column> cells = new ArrayList<>();
    List<Integer> categories = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Column v = col(name(i));
      boolean categoricalColumn = readers.get(i).categorical;
      if (categoricalColumn) {
        categories.add(i);
      }
      cells.add(
          functions.struct(
              lit(i).as("i"),
              (categoricalColumn ? lit(null).cast(DataTypes.DoubleType) : when(finite(v), v))
                  .as("x"),
              (categoricalColumn ? v : lit(null).cast(DataTypes.StringType)).as("s")));
    }
    java.util.Set<Integer> distinctKnown = new java.util.HashSet<>();
    if (n > 0) {
      Dataset<Row> perValue =
          projected
              .select(functions.explode(functions.array(cells.toArray(Column[]::new))).as("cell"))
              .select(col("cell.i").as("i"), col("cell.x").as("x"), col("cell.s").as("s"))
              .where(col("x").isNotNull().or(col("s").isNotNull()))
              .groupBy("i", "x", "s")
              .count();
      // distinct values per column by an aggregate joined back (Spark reuses the group-by's
      // exchange), not a window per column, which would hold all of a column's values in one task
      Dataset<Row> distinct = perValue.groupBy("i").agg(count(lit(1)).as("distinct"));
      Dataset<Row> counted =
          perValue
              .join(functions.broadcast(distinct), "i")
              .where(col("distinct").leq(lit(exactLimit)).or(col("i").isin(categories.toArray())));
      for (Row g : counted.collectAsList()) {
        int i = g.getInt(0);
        distinctKnown.add(i);
        ColumnProfile profile = profiles.get(readers.get(i).name);
        if (profile instanceof CategoricalProfile c) {
          c.addCount(g.getString(2), g.getLong(3));
        } else {
          ((NumericProfile) profile).addCount(g.getDouble(1), g.getLong(3));
        }
      }
    }

    // 4. approx_percentile for the numeric columns with more distinct values
    List<Integer> sketched = new ArrayList<>();
    List<Column> percentiles = new ArrayList<>();
    double[] ranks = new double[quantiles];
    for (int q = 0; q < quantiles; q++) {
      // the middle of each of the equal rank intervals the point stands for
      ranks[q] = (q + 0.5) / quantiles;
    }
    for (int i : spread) {
      if (!distinctKnown.contains(i)) {
        Column v = col(name(i));
        sketched.add(i);
        percentiles.add(functions.percentile_approx(when(finite(v), v), lit(ranks), lit(ACCURACY)));
      }
    }
    if (!sketched.isEmpty()) {
      Row points = single(projected, percentiles);
      for (int k = 0; k < sketched.size(); k++) {
        List<Double> quantilesOfColumn = points.getList(k);
        ((NumericProfile) profiles.get(readers.get(sketched.get(k)).name))
            .setQuantiles(
                quantilesOfColumn.stream().mapToDouble(Double::doubleValue).toArray(),
                quantileError());
      }
    }
    return new TableProfile(rows, profiles);
  }

  /** The one row of {@code aggregates} over all rows. */
  private static Row single(Dataset<Row> projected, List<Column> aggregates) {
    // not first(): a collect with a limit plans CollectLimitExec, which RAPIDS 25.04 leaves on the
    // CPU
    return projected
        .agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
        .collectAsList()
        .get(0);
  }

  private static String name(int i) {
    return "c" + (i + 1);
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
