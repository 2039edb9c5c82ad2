package kiln.core.models;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import kiln.core.BadInputException;
import kiln.core.EnvironmentException;
import kiln.core.testing.SharedSpark;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.regression.LinearRegression;
import org.apache.spark.ml.regression.LinearRegressionModel;
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
 * The model file format: a model saved by {@link ModelFiles#save} loads back by the class its Spark
 * ML metadata names, with no model library known to core. Spark's own models stand in for XGBoost's
 * here.
 */
@ExtendWith(SharedSpark.class)
class ModelFilesTest {
  private static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.LongType)
          .add("hour", DataTypes.DoubleType)
          .add("distance", DataTypes.DoubleType)
          .add("label", DataTypes.DoubleType);
  private static final List<String> FEATURES = List.of("hour", "distance");

  private static Dataset<Row> rows(SparkSession spark, int n) {
    Random random = new Random(5);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double hour = random.nextInt(24);
      double late = random.nextDouble() < (hour >= 17 ? 0.8 : 0.1) ? 1 : 0;
      rows.add(RowFactory.create((long) i, hour, 100.0 + random.nextInt(2000), late));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  private static ModelInfo info(Task task) {
    return ModelInfo.builder()
        .task(task)
        .label("label")
        .featureColumns(FEATURES)
        .key("id")
        .groupColumns(List.of("hour"))
        .minGroupRows(10)
        .featureTable("/tables/features", 3)
        .dataTable("/tables/flights", 7L)
        .hyperparameters(Map.of("max_iter", 20))
        .metrics(Map.of("auc_roc", 0.81))
        .build();
  }

  private static LogisticRegressionModel classifier(Dataset<Row> data, int iterations) {
    return new LogisticRegression()
        .setMaxIter(iterations)
        .setFeaturesCol(ModelFiles.FEATURES_VECTOR)
        .setLabelCol("label")
        .fit(ModelFiles.assemble(data, FEATURES));
  }

  @Test
  void aSavedClassifierLoadsBackAndScoresAsTheFittedModelDoes(
      SparkSession spark, @TempDir Path dir) {
    Dataset<Row> data = rows(spark, 200);
    LogisticRegressionModel fitted = classifier(data, 20);
    ModelFiles.save(fitted, info(Task.CLASSIFIER), dir.resolve("model"));

    ModelFiles loaded = ModelFiles.load(dir.resolve("model"));

    assertThat(loaded.info()).isEqualTo(info(Task.CLASSIFIER));
    assertThat(loaded.model()).isInstanceOf(LogisticRegressionModel.class);
    assertThat(loaded.files())
        .contains(Path.of(ModelFiles.INFO_FILE))
        .allMatch(p -> !p.toString().endsWith(".crc"));
    List<Row> expected =
        fitted
            .transform(ModelFiles.assemble(data, FEATURES))
            .orderBy("id")
            .select("id", "probability")
            .collectAsList();
    List<Row> scored =
        loaded.score(data).orderBy("id").select("id", ModelFiles.SCORE).collectAsList();
    assertThat(scored).hasSize(200);
    for (int i = 0; i < scored.size(); i++) {
      assertThat(scored.get(i).getLong(0)).isEqualTo(expected.get(i).getLong(0));
      assertThat(scored.get(i).getDouble(1))
          .isCloseTo(((Vector) expected.get(i).get(1)).apply(1), within(1e-12));
    }
  }

  @Test
  void aRegressorsScoreIsItsPrediction(SparkSession spark, @TempDir Path dir) {
    Dataset<Row> data = rows(spark, 50);
    LinearRegressionModel fitted =
        new LinearRegression()
            .setFeaturesCol(ModelFiles.FEATURES_VECTOR)
            .setLabelCol("distance")
            .fit(ModelFiles.assemble(data, List.of("hour")));
    ModelInfo info =
        ModelInfo.builder()
            .task(Task.REGRESSOR)
            .label("distance")
            .featureColumns(List.of("hour"))
            .key("id")
            .seed(1)
            .threshold(0)
            .featureTable("/tables/features", 0)
            .build();
    ModelFiles.save(fitted, info, dir.resolve("model"));

    ModelFiles loaded = ModelFiles.load(dir.resolve("model"));

    assertThat(loaded.model()).isInstanceOf(LinearRegressionModel.class);
    assertThat(loaded.score(data).where("kiln_score != prediction or kiln_score is null").count())
        .isZero();
  }

  @Test
  void aDirectoryWithoutTheInfoFileIsNotAKilnModel(@TempDir Path dir) {
    assertThatThrownBy(() -> ModelFiles.load(dir))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining(dir + " holds no kiln-model.json, so it is not a model Kiln trained");
  }

  @Test
  void aModelWhoseClassIsNotOnTheClasspathIsAnEnvironmentError(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Dataset<Row> data = rows(spark, 50);
    LogisticRegressionModel fitted = classifier(data, 5);
    Path model = dir.resolve("model");
    ModelFiles.save(fitted, info(Task.CLASSIFIER), model);
    Path metadata;
    try (var parts = Files.list(model.resolve(ModelFiles.MODEL_DIRECTORY).resolve("metadata"))) {
      metadata =
          parts
              .filter(p -> p.getFileName().toString().startsWith("part-"))
              .findFirst()
              .orElseThrow();
    }
    Files.writeString(
        metadata,
        Files.readString(metadata)
            .replace(
                "org.apache.spark.ml.classification.LogisticRegressionModel",
                "com.example.GoneModel"));

    assertThatThrownBy(() -> ModelFiles.load(model))
        .isInstanceOf(EnvironmentException.class)
        .hasMessageContaining(
            "is a com.example.GoneModel, and that class (or its reader) is not on the classpath");
  }

  /**
   * Which rows' features can be prepared as plain double columns (scoring's and training's path
   * under RAPIDS): numeric or boolean ones of a model without text; not a vector feature, not text.
   * A Spark ML model reads its vector as it was fitted ({@link ModelFiles#readingVector} leaves
   * it).
   */
  @Test
  void onlyNumericFeaturesOfAModelWithoutTextArePreparedAsPlainColumns(
      SparkSession spark, @TempDir Path dir) {
    Dataset<Row> data = rows(spark, 10);
    LogisticRegressionModel fitted = classifier(data, 2);
    ModelFiles model = ModelFiles.save(fitted, info(Task.CLASSIFIER), dir.resolve("model"));
    ModelFiles text =
        ModelFiles.save(
            fitted,
            info(Task.CLASSIFIER).toBuilder().textColumns(List.of("body")).build(),
            dir.resolve("text"));

    assertThat(model.plainFeatures(data.schema())).isTrue();
    assertThat(model.plainFeatures(data.withColumn("hour", data.col("hour").gt(12)).schema()))
        .isTrue();
    assertThat(model.plainFeatures(data.drop("distance").schema())).isTrue();
    assertThat(
            model.plainFeatures(data.withColumn("hour", data.col("hour").cast("string")).schema()))
        .isFalse();
    Dataset<Row> assembled = ModelFiles.assemble(data, FEATURES);
    assertThat(
            model.plainFeatures(
                assembled.withColumn("hour", assembled.col(ModelFiles.FEATURES_VECTOR)).schema()))
        .isFalse();
    assertThat(text.plainFeatures(data.schema())).isFalse();
    assertThat(model.readsFeatureColumns()).isFalse();
    assertThat(ModelFiles.readingVector(fitted)).isSameAs(fitted);
    assertThat(ModelFiles.withFeatureColumns(data, FEATURES).columns())
        .containsExactly("id", "hour", "distance", "label", "kiln_feature_0", "kiln_feature_1");
  }

  @Test
  void aMissingFeatureColumnIsNamedWithTheRows(SparkSession spark, @TempDir Path dir) {
    Dataset<Row> data = rows(spark, 50);
    LogisticRegressionModel fitted = classifier(data, 5);
    ModelFiles.save(fitted, info(Task.CLASSIFIER), dir.resolve("model"));
    ModelFiles loaded = ModelFiles.load(dir.resolve("model"));

    assertThatThrownBy(() -> loaded.score(data.drop("distance"), "table t@3"))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("table t@3")
        .hasMessageContaining("'distance'");
  }
}
