package kiln.core.testing;

import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** Flights frames shaped like the sample (date timestamp_ntz, delay and distance bigint). */
public final class SampleFlights {
  public static final StructType SCHEMA =
      new StructType()
          .add("date", DataTypes.TimestampNTZType, true)
          .add("delay", DataTypes.LongType, true)
          .add("distance", DataTypes.LongType, true)
          .add("origin", DataTypes.StringType, true)
          .add("destination", DataTypes.StringType, true);

  private SampleFlights() {}

  /**
   * {@code n} flights with every value derived from the row number, so that a test's expectations
   * can be worked out by hand: January to June 2001, delays -5 to 25 in steps of 5, distances 300
   * up in steps of 100, four airports in turn.
   */
  public static Dataset<Row> regular(SparkSession spark, int n) {
    String[] airports = {"SFO", "LAX", "JFK", "ORD"};
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      rows.add(
          RowFactory.create(
              LocalDateTime.of(2001, 1 + i % 6, 1 + i % 28, i % 24, 0),
              (long) (i % 7) * 5 - 5,
              300L + 100L * i,
              airports[i % 4],
              airports[(i + 1) % 4]));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }
}
