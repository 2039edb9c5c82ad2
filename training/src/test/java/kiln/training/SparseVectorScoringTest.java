package kiln.training;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rows with many zero features: Spark's VectorAssembler stores them as SparseVectors, which
 * xgboost4j-spark 3.4.0's fit refuses (missing values unset) and its CPU transform turns into a
 * corrupt matrix (dmlc/xgboost#12347, fixed in 3.4.1): wrong probabilities, or a native crash of
 * the JVM. Kiln's training, evaluation and scoring must give such rows the predictions of the same
 * values held densely.
 */
@ExtendWith(SharedSpark.class)
class SparseVectorScoringTest {
  static final List<String> FEATURES = List.of("a", "b", "c", "d", "e", "f");

  /** Six features, each zero in about 70% of the rows; some rows all zero. */
  static Dataset<Row> rows(SparkSession spark, int n) {
    StructType schema = new StructType().add("id", DataTypes.LongType);
    for (String f : FEATURES) {
      schema = schema.add(f, DataTypes.DoubleType);
    }
    schema = schema.add("label", DataTypes.DoubleType);
    Random random = new Random(11);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Object[] values = new Object[FEATURES.size() + 2];
      values[0] = (long) i;
      double sum = 0;
      for (int j = 0; j < FEATURES.size(); j++) {
        double v = random.nextDouble() < 0.7 ? 0.0 : 1 + random.nextInt(9);
        values[j + 1] = v;
        sum += v * (j % 2 == 0 ? 1 : -1);
      }
      values[FEATURES.size() + 1] = sum > 0 || random.nextDouble() < 0.1 ? 1.0 : 0.0;
      rows.add(RowFactory.create(values));
    }
    return spark.createDataFrame(rows, schema);
  }

  static Dataset<Row> denseVectors(Dataset<Row> rows) {
    return rows.withColumn(
        ModelFiles.FEATURES_VECTOR,
        org.apache.spark.ml.functions.array_to_vector(
            org.apache.spark.sql.functions.array(
                FEATURES.stream().map(f -> col(f)).toArray(org.apache.spark.sql.Column[]::new))));
  }

  static XGBoostClassificationModel train(Dataset<Row> rows) {
    XGBoostClassifier classifier = new XGBoostClassifier();
    classifier.setFeaturesCol(ModelFiles.FEATURES_VECTOR);
    classifier.setLabelCol("label");
    classifier.setObjective("binary:logistic");
    classifier.setMaxDepth(3);
    classifier.setNumRound(10);
    classifier.setNumWorkers(1);
    classifier.setNthread(1);
    classifier.setDevice("cpu");
    return classifier.fit(denseVectors(rows));
  }

  static double[] probabilities(Dataset<Row> transformed) {
    return transformed.orderBy("id").select("probability").collectAsList().stream()
        .mapToDouble(r -> ((Vector) r.get(0)).apply(1))
        .toArray();
  }

  static double[] scores(Dataset<Row> scored) {
    return scored.orderBy("id").select(ModelFiles.SCORE).collectAsList().stream()
        .mapToDouble(r -> r.getDouble(0))
        .toArray();
  }

  @Test
  void scoringGivesRowsWithManyZerosTheDensePredictions(SparkSession spark, @TempDir Path dir) {
    Dataset<Row> rows = rows(spark, 120);
    XGBoostClassificationModel model = train(rows);
    ModelInfo info =
        ModelInfo.builder()
            .task(Task.CLASSIFIER)
            .label("label")
            .featureColumns(FEATURES)
            .key("id")
            .featureTable(dir.resolve("data").toString(), 0)
            .hyperparameters(Map.of("max_depth", 3, "num_round", 10))
            .build();
    ModelFiles files = ModelFiles.save(model, info, dir.resolve("model"));

    assertThat(
            ModelFiles.assemble(rows, FEATURES)
                .select(ModelFiles.FEATURES_VECTOR)
                .collectAsList()
                .stream()
                .map(r -> r.get(0)))
        .allMatch(v -> v instanceof DenseVector);
    assertThat(scores(files.scoreColumns(rows, FEATURES, false)))
        .containsExactly(probabilities(model.transform(denseVectors(rows))));
  }

  @Test
  void trainsAndEvaluatesOnRowsWithManyZerosAsTheSavedModelScoresThem(
      SparkSession spark, @TempDir Path dir) {
    String flights = dir.resolve("flights").toString();
    new kiln.core.Datasets(spark)
        .write(
            TestFlights.frame(spark, 300, 7),
            flights,
            kiln.core.WriteOptions.of(kiln.core.WriteMode.OVERWRITE));
    String features = dir.resolve("features").toString();
    Map<String, String> columns = new java.util.LinkedHashMap<>();
    columns.put("flight_id", "xxhash64(date, origin, destination, distance, delay)");
    columns.put("date", "date");
    columns.put("origin", "origin");
    columns.put("label", "cast(delay > 15 as double)");
    // two indicators and four zeros: VectorAssembler would make every row a SparseVector
    columns.put("evening", "cast(hour(date) >= 17 as double)");
    columns.put("ord", "cast(origin = 'ORD' as double)");
    for (int i = 1; i <= 4; i++) {
      columns.put("zero" + i, "cast(0 as double)");
    }
    new FeatureJob(spark)
        .run(
            TestFlights.exampleFeatures(flights, features).toBuilder()
                .columns(columns)
                .codes(List.of())
                .statistics(List.of())
                .build());
    TrainConfig config =
        TrainerTest.config(features, Task.CLASSIFIER, null, Map.of("max_depth", 2), Device.CPU)
            .toBuilder()
            .featureColumns(List.of("evening", "ord", "zero1", "zero2", "zero3", "zero4"))
            .build();

    TrainingResult result = new Trainer(spark, TrainerTest.NO_GPU).train(config, dir.resolve("m"));

    assertThat(result.evaluation().metrics().get("auc_roc")).isGreaterThan(0.6);
    Evaluation.Result again =
        Trainer.evaluate(
            ModelFiles.load(dir.resolve("m")),
            kiln.core.models.Split.test(
                new kiln.core.Datasets(spark).read(kiln.core.DatasetRef.parse(features)),
                "flight_id",
                42,
                kiln.core.models.SplitFractions.DEFAULT));
    for (String metric : List.of("auc_roc", "log_loss", "accuracy", "rows")) {
      assertThat(again.metrics().get(metric))
          .as(metric)
          .isEqualTo(result.evaluation().metrics().get(metric));
    }
  }
}
