package kiln.bench;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.PinnedTable;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.Task;
import kiln.core.tracking.Tracking;
import org.apache.spark.ml.Model;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The scoring set-up of the benchmarks that time {@code kiln score} (ScoreBenchmark,
 * LineageBenchmark): the flights sample's delay features, a model trained on January-March and
 * saved as Kiln saves one, and April-June written as the Delta table to score.
 */
final class FlightsScoring {
  static final String[] FEATURES = {"hour", "day_of_week", "month", "distance"};

  /**
   * @param model the trained model, for a direct {@code transform} beside Kiln's scoring
   * @param files the model as Kiln saved and loads it
   * @param version the registry version a scoring run names (nothing is registered)
   * @param input April-June, pinned at version 0
   */
  record SetUp(
      Model<?> model, ModelFiles files, Tracking.ModelVersion version, PinnedTable input) {}

  private FlightsScoring() {}

  /** The flights sample with its numeric features (as doubles) and the label delay > 15. */
  static Dataset<Row> features(SparkSession spark, String source) {
    return spark
        .read()
        .parquet(source)
        .selectExpr(
            "*",
            "cast(hour(date) as double) as hour",
            "cast(dayofweek(date) as double) as day_of_week",
            "cast(month(date) as double) as month",
            "cast(distance as double) as distance_d",
            "if(delay > 15, 1.0, 0.0) as label")
        .drop("distance")
        .withColumnRenamed("distance_d", "distance");
  }

  /**
   * Trains with {@code train} on January-March of {@code source}, saves the model under {@code
   * work/model} and writes April-June to {@code work/score-input}.
   */
  static SetUp prepare(
      SparkSession spark, String source, Path work, Function<Dataset<Row>, Model<?>> train) {
    Dataset<Row> flights = features(spark, source);
    System.out.println(
        "[bench] training a model on January-March to score April-June with, in " + work);
    Model<?> model = train.apply(flights.where("date < '2001-04-01'"));
    Path modelDirectory = work.resolve("model");
    ModelFiles.save(
        model,
        ModelInfo.builder()
            .task(Task.CLASSIFIER)
            .label("label")
            .featureColumns(List.of(FEATURES))
            .key("date")
            .featureTable(source, 0)
            .build(),
        modelDirectory);
    Tracking.ModelVersion version =
        new Tracking.ModelVersion("bench", "1", modelDirectory.toString(), null, Map.of());
    Datasets datasets = new Datasets(spark);
    String input = work.resolve("score-input").toString();
    datasets.write(
        flights.where("date >= '2001-04-01'"), input, WriteOptions.of(WriteMode.OVERWRITE));
    return new SetUp(
        model,
        ModelFiles.load(modelDirectory),
        version,
        datasets.pin(DatasetRef.atVersion(input, 0)));
  }
}
