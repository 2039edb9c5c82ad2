package kiln.training;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.dayofweek;
import static org.apache.spark.sql.functions.hour;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.month;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import kiln.core.Errors;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The flights features, as Spark SQL expressions only (no UDFs) so that the RAPIDS Accelerator can run
 * them on a GPU. Airport and route statistics come from the train rows of the training period only.
 */
public final class FlightFeatures {
  public static final List<String> INPUT_COLUMNS = List.of("date", "delay", "distance", "origin", "destination");
  public static final String KEY = "flight_id";
  public static final String LABEL = "label";

  /** The numeric columns a model trains on. */
  public static final List<String> FEATURE_COLUMNS = List.of(
      "hour", "day_of_week", "month", "distance", "origin_index", "destination_index",
      "origin_flights", "origin_delay_rate", "destination_flights", "destination_delay_rate",
      "route_flights", "route_delay_rate", "route_mean_delay");

  private FlightFeatures() {}

  /** The feature table of {@code flights}, with statistics from the train rows of the default split. */
  public static Dataset<Row> build(Dataset<Row> flights, String trainingUntil, int delayThresholdMinutes) {
    return build(flights, trainingUntil, delayThresholdMinutes, Split.DEFAULT_SEED, SplitFractions.DEFAULT);
  }

  /**
   * The feature table of {@code flights}. The airport and route statistics come from the rows before
   * {@code trainingUntil} (a date, or null for all rows) that the split ({@value #KEY}, {@code seed},
   * {@code fractions}; the one {@link Trainer} applies) puts in train: a validation or test row's label
   * never reaches the features it is evaluated with.
   */
  public static Dataset<Row> build(Dataset<Row> flights, String trainingUntil, int delayThresholdMinutes, long seed,
      SplitFractions fractions) {
    List<String> missing = new ArrayList<>(INPUT_COLUMNS);
    missing.removeAll(Arrays.asList(flights.columns()));
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("the flights table", missing, Arrays.asList(flights.columns()));
    }
    Column late = when(col("delay").isNull(), lit(null).cast("double"))
        .otherwise(when(col("delay").gt(delayThresholdMinutes), 1.0).otherwise(0.0));
    Dataset<Row> base = flights.select(
        xxhash64(col("date"), col("origin"), col("destination"), col("distance"), col("delay")).as(KEY),
        col("date"), col("origin"), col("destination"),
        col("distance").cast("double").as("distance"),
        col("delay").cast("double").as("delay"),
        late.as(LABEL));
    Dataset<Row> period = trainingUntil == null ? base
        : base.where(col("date").lt(lit(trainingUntil).cast("timestamp_ntz")));

    Dataset<Row> train = period.where(Split.isTrain(KEY, seed, fractions));

    Dataset<Row> originStats = train.groupBy(col("origin"))
        .agg(count(lit(1)).cast("double").as("origin_flights"), avg(LABEL).as("origin_delay_rate"));
    Dataset<Row> destinationStats = train.groupBy(col("destination"))
        .agg(count(lit(1)).cast("double").as("destination_flights"), avg(LABEL).as("destination_delay_rate"));
    Dataset<Row> routeStats = train.groupBy(col("origin"), col("destination"))
        .agg(count(lit(1)).cast("double").as("route_flights"), avg(LABEL).as("route_delay_rate"),
            avg("delay").as("route_mean_delay"));
    // a stable ordinal code per airport of the training period (1 = first in alphabetical order): the number
    // of airports at or before it, by a self-join of a few hundred rows instead of a window over one partition.
    // From every row of the period, not only train: a code holds no label, and this keeps codes unchanged.
    Dataset<Row> codes = period.select(col("origin").as("airport"))
        .union(period.select(col("destination").as("airport"))).distinct();
    Dataset<Row> airports = codes.as("a").join(codes.as("b"), col("b.airport").leq(col("a.airport")))
        .groupBy(col("a.airport").as("airport"))
        .agg(count(lit(1)).cast("double").as("airport_index"));

    return base
        .join(originStats, "origin", "left")
        .join(destinationStats, "destination", "left")
        .join(routeStats, new String[] {"origin", "destination"}, "left")
        .join(airports.withColumnRenamed("airport", "origin").withColumnRenamed("airport_index", "origin_index"),
            "origin", "left")
        .join(airports.withColumnRenamed("airport", "destination")
            .withColumnRenamed("airport_index", "destination_index"), "destination", "left")
        .select(col(KEY), col("date"), col("origin"), col("destination"),
            hour(col("date")).cast("double").as("hour"),
            dayofweek(col("date")).cast("double").as("day_of_week"),
            month(col("date")).cast("double").as("month"),
            col("distance"), col("origin_index"), col("destination_index"),
            col("origin_flights"), col("origin_delay_rate"), col("destination_flights"), col("destination_delay_rate"),
            col("route_flights"), col("route_delay_rate"), col("route_mean_delay"),
            col("delay"), col(LABEL));
  }
}
