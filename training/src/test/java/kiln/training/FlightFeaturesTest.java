package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class FlightFeaturesTest {

  private static Dataset<Row> flights(SparkSession spark) {
    return spark.createDataFrame(List.of(
        TestFlights.flight("2001-01-01 08:30:00", 30, 500, "SFO", "LAX"),   // Monday, late
        TestFlights.flight("2001-01-02 18:00:00", 0, 500, "SFO", "LAX"),
        TestFlights.flight("2001-02-03 09:00:00", 16, 1000, "ORD", "JFK"),  // late
        TestFlights.flight("2001-03-04 10:00:00", 15, 1000, "ORD", "SFO"),  // exactly 15: not late
        TestFlights.flight("2001-04-05 11:00:00", 100, 500, "SFO", "LAX"),  // after the training period
        TestFlights.flight("2001-04-06 12:00:00", 100, 900, "JFK", "ORD")), // a route only seen later
        TestFlights.SCHEMA);
  }

  @Test
  void computesCalendarFeaturesLabelAndStatisticsFromTheTrainingPeriodOnly(SparkSession spark) {
    Map<String, Row> byDate = FlightFeatures.build(flights(spark), "2001-04-01", 15).collectAsList().stream()
        .collect(Collectors.toMap(r -> r.getAs("date").toString(), r -> r));

    Row first = byDate.get("2001-01-01T08:30");
    assertThat((double) first.getAs("hour")).isEqualTo(8.0);
    assertThat((double) first.getAs("day_of_week")).isEqualTo(2.0); // Spark: Sunday = 1
    assertThat((double) first.getAs("month")).isEqualTo(1.0);
    assertThat((double) first.getAs("label")).isEqualTo(1.0);
    assertThat((double) byDate.get("2001-03-04T10:00").getAs("label")).isEqualTo(0.0);

    // SFO->LAX in the training period: one late of two; the April flight's 100 minutes are not counted
    Row april = byDate.get("2001-04-05T11:00");
    assertThat((double) april.getAs("route_flights")).isEqualTo(2.0);
    assertThat((double) april.getAs("route_delay_rate")).isEqualTo(0.5);
    assertThat((double) april.getAs("route_mean_delay")).isEqualTo(15.0);
    assertThat((double) april.getAs("origin_flights")).isEqualTo(2.0);
    // JFK->ORD exists only after the training period: no statistics, no leak
    Row unseen = byDate.get("2001-04-06T12:00");
    assertThat((Object) unseen.getAs("route_flights")).isNull();
    assertThat((Object) unseen.getAs("origin_delay_rate")).isNull();
    assertThat((double) unseen.getAs("origin_index")).isEqualTo(1.0); // JFK, LAX, ORD, SFO
    assertThat((Long) first.getAs("flight_id")).isEqualTo((Long) FlightFeatures.build(flights(spark), "2001-04-01", 15)
        .where("date = '2001-01-01 08:30:00'").first().getAs("flight_id"));
  }

  @Test
  void namesMissingInputColumns(SparkSession spark) {
    assertThatThrownBy(() -> FlightFeatures.build(flights(spark).drop("distance"), null, 15))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the flights table lacks column 'distance'");
  }

  @Test
  void jobWritesANewVersionRecordingItsInput(SparkSession spark, @TempDir Path dir) {
    Datasets datasets = new Datasets(spark);
    String input = dir.resolve("flights").toString();
    String output = dir.resolve("features").toString();
    datasets.write(flights(spark), input, WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(flights(spark).limit(3), input, WriteOptions.of(WriteMode.APPEND));

    FeatureResult result = new FeatureJob(spark).run(new FeatureConfig(input + "@0", output, "2001-04-01", null));

    assertThat(result.input()).isEqualTo(DatasetRef.atVersion(input, 0));
    assertThat(result.output()).isEqualTo(DatasetRef.atVersion(output, 0));
    assertThat(result.rows()).isEqualTo(6);
    assertThat(Datasets.commitMetadata(datasets.lastCommit(output)))
        .containsEntry(FeatureJob.INPUT_TABLE, input).containsEntry(FeatureJob.INPUT_VERSION, "0");
    FeatureResult scoring = new FeatureJob(spark).run(
        new FeatureConfig(input, output, "2001-04-01", 30, "date >= '2001-04-01'"));
    assertThat(scoring.output().version()).isEqualTo(1);
    assertThat(scoring.input().version()).isEqualTo(1);
    assertThat(scoring.rows()).isEqualTo(2); // the two April flights; the appended copies are from January
    assertThatThrownBy(() -> new FeatureConfig(input, output + "@3", null, null))
        .hasMessageContaining("names a version");
  }
}
