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
import kiln.core.YamlFiles;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
/**
 * The flights example config ({@code training/examples/flights-features.yaml}) builds the flights
 * features.
 */
class FlightsFeatureExampleTest {
  private static final FeatureConfig EXAMPLE =
      TestFlights.exampleFeatures("/data/flights", "/data/features");

  private static Dataset<Row> build(Dataset<Row> flights) {
    return Features.build(flights, "the flights table", EXAMPLE);
  }

  private static Dataset<Row> flights(SparkSession spark) {
    return spark.createDataFrame(
        List.of(
            TestFlights.flight("2001-01-01 08:30:00", 30, 500, "SFO", "LAX"), // Monday, late
            TestFlights.flight("2001-01-02 18:00:00", 0, 500, "SFO", "LAX"),
            TestFlights.flight("2001-02-03 09:00:00", 16, 1000, "ORD", "JFK"), // late
            TestFlights.flight(
                "2001-03-04 10:00:00", 15, 1000, "ORD", "SFO"), // exactly 15: not late
            TestFlights.flight(
                "2001-04-05 11:00:00", 100, 500, "SFO", "LAX"), // after the training period
            TestFlights.flight(
                "2001-04-06 12:00:00", 100, 900, "JFK", "ORD")), // a route only seen later
        TestFlights.SCHEMA);
  }

  @Test
  void computesCalendarFeaturesLabelAndStatisticsFromTheTrainingPeriodOnly(SparkSession spark) {
    Map<String, Row> byDate =
        build(flights(spark)).collectAsList().stream()
            .collect(Collectors.toMap(r -> r.getAs("date").toString(), r -> r));

    Row first = byDate.get("2001-01-01T08:30");
    assertThat((double) first.getAs("hour")).isEqualTo(8.0);
    assertThat((double) first.getAs("day_of_week")).isEqualTo(2.0); // Spark: Sunday = 1
    assertThat((double) first.getAs("month")).isEqualTo(1.0);
    assertThat((double) first.getAs("label")).isEqualTo(1.0);
    assertThat((double) byDate.get("2001-03-04T10:00").getAs("label")).isEqualTo(0.0);

    // SFO->LAX in the training period: one late of two; the April flight's 100 minutes are not
    // counted
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
    assertThat((Long) first.getAs("flight_id"))
        .isEqualTo(
            (Long)
                build(flights(spark))
                    .where("date = '2001-01-01 08:30:00'")
                    .first()
                    .getAs("flight_id"));
  }

  /**
   * BOS-DEN in the training period: three on-time flights that the default split (seed 42) puts in
   * train, and late ones that it puts in test (two) and validation (one). Their labels must not
   * reach the statistics.
   */
  private static Dataset<Row> routeLateOnlyOutsideTrain(SparkSession spark) {
    return spark.createDataFrame(
        List.of(
            TestFlights.flight("2001-02-03 07:00:00", 0, 700, "BOS", "DEN"), // train
            TestFlights.flight("2001-02-04 07:00:00", 0, 700, "BOS", "DEN"), // train
            TestFlights.flight("2001-02-06 07:00:00", 0, 700, "BOS", "DEN"), // train
            TestFlights.flight("2001-02-06 07:00:00", 40, 700, "BOS", "DEN"), // test, late
            TestFlights.flight("2001-02-15 07:00:00", 40, 700, "BOS", "DEN"), // test, late
            TestFlights.flight("2001-02-04 07:00:00", 40, 700, "BOS", "DEN"), // validation, late
            TestFlights.flight("2001-01-01 12:00:00", 5, 300, "ORD", "BOS"), // train
            TestFlights.flight("2001-01-05 12:00:00", 5, 300, "ORD", "BOS"), // test
            TestFlights.flight(
                "2001-04-10 07:00:00", 40, 700, "BOS", "DEN"), // after the training period
            TestFlights.flight(
                "2001-04-11 07:00:00", 0, 700, "DEN", "BOS")), // after the training period
        TestFlights.SCHEMA);
  }

  @Test
  void statisticsComeFromTrainRowsOnlySoNoTestOrValidationLabelLeaks(SparkSession spark) {
    Dataset<Row> features =
        build(routeLateOnlyOutsideTrain(spark))
            .withColumn(
                "part", Split.part("flight_id", Split.DEFAULT_SEED, SplitFractions.DEFAULT));
    Map<String, List<Row>> byPart =
        features.where("origin = 'BOS' and date < '2001-04-01'").collectAsList().stream()
            .collect(Collectors.groupingBy(r -> r.getAs("part")));
    // the premise: every late BOS-DEN flight of the training period is outside train
    assertThat(byPart.get(Split.TRAIN)).hasSize(3).allMatch(r -> (double) r.getAs("label") == 0.0);
    assertThat(byPart.get(Split.TEST)).hasSize(2).allMatch(r -> (double) r.getAs("label") == 1.0);
    assertThat(byPart.get(Split.VALIDATION))
        .hasSize(1)
        .allMatch(r -> (double) r.getAs("label") == 1.0);

    // every BOS-DEN row, the late test rows and the April row included, sees the three on-time
    // train flights only
    List<Row> route = features.where("origin = 'BOS' and destination = 'DEN'").collectAsList();
    assertThat(route).hasSize(7);
    for (Row row : route) {
      assertThat((double) row.getAs("route_flights")).isEqualTo(3.0);
      assertThat((double) row.getAs("route_delay_rate")).isEqualTo(0.0);
      assertThat((double) row.getAs("route_mean_delay")).isEqualTo(0.0);
      assertThat((double) row.getAs("origin_flights")).isEqualTo(3.0);
      assertThat((double) row.getAs("origin_delay_rate")).isEqualTo(0.0);
      assertThat((double) row.getAs("destination_delay_rate")).isEqualTo(0.0);
    }
    // ORD-BOS: its test flight is not counted either
    Row ordBos = features.where("origin = 'ORD'").first();
    assertThat((double) ordBos.getAs("route_flights")).isEqualTo(1.0);
    // DEN departs only after the training period: no statistics, but an airport code as before
    Row den = features.where("origin = 'DEN'").first();
    assertThat((Object) den.getAs("origin_flights")).isNull();
    assertThat((double) den.getAs("origin_index")).isEqualTo(2.0); // BOS, DEN, ORD
  }

  @Test
  void anotherSplitGivesOtherTrainRows(SparkSession spark) {
    SplitFractions mostlyTrain = new SplitFractions(0.98, 0.01, 0.01);
    Dataset<Row> features =
        Features.build(
            routeLateOnlyOutsideTrain(spark),
            "the flights table",
            EXAMPLE.toBuilder().seed(7L).split(mostlyTrain).build());
    assertThat(features.count()).isEqualTo(10);
    long train =
        features
            .where("date < '2001-04-01' and origin = 'BOS'")
            .where(Split.isTrain("flight_id", 7L, mostlyTrain))
            .count();
    assertThat(train).isNotEqualTo(3); // the default split's BOS train rows: this one picks others
    Row row = features.where("origin = 'BOS'").first();
    assertThat(
            row.isNullAt(row.fieldIndex("route_flights"))
                ? 0.0
                : (double) row.getAs("route_flights"))
        .isEqualTo((double) train);
  }

  @Test
  void featureConfigTakesTheSplitWithTheTrainingDefaults(@TempDir Path dir)
      throws java.io.IOException {
    Path file = dir.resolve("features.yaml");
    java.nio.file.Files.writeString(
        file,
        "input: /data/flights@0\noutput: /data/features\nseed: 7\n"
            + "split: {train: 0.8, validation: 0.1, test: 0.1}\nkey: id\ncolumns: {id: id}\n");
    FeatureConfig config = YamlFiles.read(file, FeatureConfig.class);
    assertThat(config.seed()).isEqualTo(7L);
    assertThat(config.split()).isEqualTo(new SplitFractions(0.8, 0.1, 0.1));

    FeatureConfig defaults =
        FeatureConfig.builder()
            .input("/data/flights")
            .output("/data/features")
            .columns(Map.of("id", "id"))
            .key("id")
            .build();
    TrainConfig training =
        TrainConfig.builder()
            .features("/data/features")
            .model("m")
            .label("label")
            .featureColumns(List.of("hour"))
            .key("id")
            .build();
    assertThat(defaults.seed()).isEqualTo(training.seed());
    assertThat(defaults.split()).isEqualTo(training.split());
  }

  @Test
  void namesMissingInputColumns(SparkSession spark) {
    assertThatThrownBy(() -> build(flights(spark).drop("distance")))
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

    FeatureResult result =
        new FeatureJob(spark).run(TestFlights.exampleFeatures(input + "@0", output));

    assertThat(result.input()).isEqualTo(DatasetRef.atVersion(input, 0));
    assertThat(result.output()).isEqualTo(DatasetRef.atVersion(output, 0));
    assertThat(result.rows()).isEqualTo(6);
    assertThat(Datasets.commitMetadata(datasets.lastCommit(output)))
        .containsEntry(FeatureJob.INPUT_TABLE, input)
        .containsEntry(FeatureJob.INPUT_VERSION, "0")
        .containsEntry(FeatureJob.SPLIT_KEY, "flight_id")
        .containsEntry(FeatureJob.SPLIT_SEED, "42")
        .containsEntry(FeatureJob.SPLIT_FRACTIONS, "0.7/0.15/0.15");
    FeatureResult scoring =
        new FeatureJob(spark)
            .run(
                TestFlights.exampleFeatures(input, output).toBuilder()
                    .where("date >= '2001-04-01'")
                    .build());
    assertThat(scoring.output().version()).isEqualTo(1);
    assertThat(scoring.input().version()).isEqualTo(1);
    assertThat(scoring.rows())
        .isEqualTo(2); // the two April flights; the appended copies are from January
    assertThatThrownBy(() -> TestFlights.exampleFeatures(input, output + "@3"))
        .hasMessageContaining("names a version");
  }
}
