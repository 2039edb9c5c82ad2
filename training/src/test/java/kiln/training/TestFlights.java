package kiln.training;

import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Small flights frames shaped like the sample (date timestamp_ntz, delay and distance bigint) with
 * a learnable signal.
 */
final class TestFlights {
  static final StructType SCHEMA =
      new StructType()
          .add("date", DataTypes.TimestampNTZType)
          .add("delay", DataTypes.LongType)
          .add("distance", DataTypes.LongType)
          .add("origin", DataTypes.StringType)
          .add("destination", DataTypes.StringType);
  static final String[] AIRPORTS = {"SFO", "LAX", "ORD", "JFK"};

  private TestFlights() {}

  /**
   * {@code rows} flights from January to June 2001; evening flights and ORD departures are late
   * more often.
   */
  static Dataset<Row> frame(SparkSession spark, int rows, long seed) {
    Random random = new Random(seed);
    List<Row> list = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      LocalDateTime date =
          LocalDateTime.of(
              2001,
              1 + random.nextInt(6),
              1 + random.nextInt(28),
              random.nextInt(24),
              random.nextInt(60));
      String origin = AIRPORTS[random.nextInt(AIRPORTS.length)];
      String destination =
          AIRPORTS[(List.of(AIRPORTS).indexOf(origin) + 1 + random.nextInt(3)) % AIRPORTS.length];
      double lateChance = (date.getHour() >= 17 ? 0.6 : 0.1) + (origin.equals("ORD") ? 0.2 : 0);
      long delay =
          random.nextDouble() < lateChance ? 20 + random.nextInt(60) : -5 + random.nextInt(15);
      list.add(RowFactory.create(date, delay, 200L + random.nextInt(2000), origin, destination));
    }
    return spark.createDataFrame(list, SCHEMA);
  }

  /**
   * {@code training/examples/flights-features.yaml}, reading {@code input} and writing {@code
   * output}.
   */
  static FeatureConfig exampleFeatures(String input, String output) {
    return kiln.core.YamlFiles.read(
            java.nio.file.Path.of("examples/flights-features.yaml"), FeatureConfig.class)
        .toBuilder()
        .input(input)
        .output(output)
        .build();
  }

  /** {@code training/examples/flights-train.yaml} on {@code features}. */
  static TrainConfig exampleTraining(String features) {
    return kiln.core.YamlFiles.read(
            java.nio.file.Path.of("examples/flights-train.yaml"), TrainConfig.class)
        .toBuilder()
        .features(features)
        .build();
  }

  static Row flight(String date, long delay, long distance, String origin, String destination) {
    return RowFactory.create(
        Timestamp.valueOf(date).toLocalDateTime(), delay, distance, origin, destination);
  }
}
