package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.Datasets;
import kiln.core.GpuProbe;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.ModelFiles;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(SharedSpark.class)
class TrainerTest {
  /** A machine without a GPU, as every machine here is. */
  static final GpuProbe NO_GPU =
      new GpuProbe() {
        @Override
        public List<String> gpus() {
          return List.of();
        }

        @Override
        public boolean rapidsOnClasspath() {
          return false;
        }
      };

  static String featureTable(SparkSession spark, Path dir, int rows) {
    String flights = dir.resolve("flights").toString();
    new Datasets(spark)
        .write(TestFlights.frame(spark, rows, 7), flights, WriteOptions.of(WriteMode.OVERWRITE));
    String features = dir.resolve("features").toString();
    new FeatureJob(spark).run(TestFlights.exampleFeatures(flights, features));
    return features;
  }

  static TrainConfig config(
      String features,
      Task task,
      String label,
      Map<String, Object> hyperparameters,
      Device device) {
    TrainConfig.Builder config =
        TestFlights.exampleTraining(features).toBuilder()
            .model("delays")
            .task(task)
            .hyperparameters(hyperparameters)
            .numRound(20)
            .earlyStoppingRounds(5)
            .device(device)
            .numWorkers(1)
            .nthread(1)
            .minGroupRows(10);
    return (label == null ? config : config.label(label)).build();
  }

  @Test
  void refusesAFeatureTableBuiltWithAnotherSplit(SparkSession spark, @TempDir Path dir) {
    String flights = dir.resolve("flights").toString();
    new Datasets(spark)
        .write(TestFlights.frame(spark, 40, 7), flights, WriteOptions.of(WriteMode.OVERWRITE));
    String features = dir.resolve("features").toString();
    new FeatureJob(spark)
        .run(
            TestFlights.exampleFeatures(flights, features).toBuilder()
                .seed(7L)
                .split(new SplitFractions(0.8, 0.1, 0.1))
                .build());
    Trainer trainer = new Trainer(spark, NO_GPU);

    assertThatThrownBy(
            () -> trainer.fit(config(features, Task.CLASSIFIER, null, Map.of(), Device.CPU)))
        .isInstanceOf(BadInputException.class)
        .hasMessage(
            "feature table "
                + features
                + "@0 was built with the split key flight_id, seed 7, fractions"
                + " 0.8/0.1/0.1, but the training config asks for key flight_id, seed 42, fractions 0.7/0.15/0.15: the"
                + " feature statistics would hold labels of this training's validation and test rows\n"
                + "  fix: put `seed: 7`, `split: {train: 0.8, validation: 0.1, test: 0.1}` and `key: flight_id` in the"
                + " training config, or rebuild the features with `kiln features` and `seed: 42`, `split: {train: 0.7,"
                + " validation: 0.15, test: 0.15}` in its config");
  }

  @Test
  void trainsEvaluatesAndSavesAClassifier(SparkSession spark, @TempDir Path dir) {
    String features = featureTable(spark, dir, 400);
    TrainingResult result =
        new Trainer(spark, NO_GPU)
            .train(
                config(
                    features,
                    Task.CLASSIFIER,
                    null,
                    Map.of("max_depth", 3, "eta", 0.3),
                    Device.AUTO),
                dir.resolve("model"));

    assertThat(result.device()).isEqualTo("cpu");
    assertThat(result.trainRows() + result.validationRows() + result.testRows()).isEqualTo(400);
    assertThat(result.testRows()).isBetween(30L, 100L);
    Map<String, Double> metrics = result.evaluation().metrics();
    assertThat(metrics.get("auc_roc")).isGreaterThan(0.7);
    assertThat(metrics)
        .containsKeys(
            "auc_pr", "log_loss", "accuracy", "precision", "recall", "f1", "calibration_error");
    assertThat(metrics.get("calibration_error")).isBetween(0.0, 1.0);
    assertThat(result.evaluation().groups().get("origin")).containsKeys("SFO", "LAX", "ORD", "JFK");
    assertThat(result.evaluation().gaps().get("origin")).isPositive();
    assertThat(result.latencyMillisPer1000Rows()).isPositive();
    assertThat(result.featureImportance()).containsKey("hour");
    assertThat(result.featureImportance().get("hour")).isGreaterThan(0.0);
    assertThat(result.sha256()).matches("[0-9a-f]{64}");

    // the saved model loads back and scores the same
    ModelFiles loaded = ModelFiles.load(dir.resolve("model"));
    assertThat(loaded.sha256()).isEqualTo(result.sha256());
    assertThat(loaded.info().featureVersion()).isEqualTo(0);
    assertThat(loaded.info().dataTable()).endsWith("flights");
    Evaluation.Result again =
        Trainer.evaluate(
            loaded,
            Split.test(
                new Datasets(spark).read(kiln.core.DatasetRef.parse(features)),
                "flight_id",
                42,
                SplitFractions.DEFAULT));
    assertThat(again.metrics().get("auc_roc")).isEqualTo(metrics.get("auc_roc"));
  }

  @Test
  void refusesBadInputBeforeTraining(SparkSession spark, @TempDir Path dir) {
    String features = featureTable(spark, dir, 60);
    Trainer trainer = new Trainer(spark, NO_GPU);
    assertThatThrownBy(
            () ->
                trainer.train(
                    config(features, Task.CLASSIFIER, null, Map.of("max_dept", 3), Device.CPU),
                    dir))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("unknown hyperparameter 'max_dept'");
    assertThatThrownBy(
            () ->
                trainer.train(
                    TestFlights.exampleTraining(features).toBuilder()
                        .model("m")
                        .featureColumns(List.of("hour", "weather"))
                        .build(),
                    dir))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("lacks column 'weather'");
    assertThatThrownBy(
            () ->
                trainer.train(config(features, Task.CLASSIFIER, null, Map.of(), Device.CUDA), dir))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("this machine has no GPU");

    String single = dir.resolve("single").toString();
    new Datasets(spark)
        .write(
            new Datasets(spark)
                .read(kiln.core.DatasetRef.parse(features))
                .withColumn("label", org.apache.spark.sql.functions.lit(1.0)),
            single,
            WriteOptions.of(WriteMode.OVERWRITE));
    assertThatThrownBy(
            () -> trainer.train(config(single, Task.CLASSIFIER, null, Map.of(), Device.CPU), dir))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("has a single class");
    String nulls = dir.resolve("nulls").toString();
    new Datasets(spark)
        .write(
            new Datasets(spark)
                .read(kiln.core.DatasetRef.parse(features))
                .withColumn(
                    "label", org.apache.spark.sql.functions.expr("if(hour = 3, null, label)")),
            nulls,
            WriteOptions.of(WriteMode.OVERWRITE));
    assertThatThrownBy(
            () -> trainer.train(config(nulls, Task.CLASSIFIER, null, Map.of(), Device.CPU), dir))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("null value(s)");
  }

  @Test
  void autoPicksCudaOnlyWhenTheSessionHasGpusAndCudaIsRefusedWithoutThem() {
    GpuProbe oneGpu =
        new GpuProbe() {
          @Override
          public List<String> gpus() {
            return List.of("/dev/nvidia0");
          }

          @Override
          public boolean rapidsOnClasspath() {
            return true;
          }
        };
    SparkConf plain = new SparkConf(false);
    SparkConf gpus = new SparkConf(false).set("spark.executor.resource.gpu.amount", "1");
    assertThat(Device.AUTO.resolve(plain, oneGpu)).isEqualTo("cpu");
    assertThat(Device.AUTO.resolve(gpus, NO_GPU)).isEqualTo("cpu");
    assertThat(Device.AUTO.resolve(gpus, oneGpu)).isEqualTo("cuda");
    assertThat(Device.CUDA.resolve(gpus, oneGpu)).isEqualTo("cuda");
    assertThatThrownBy(() -> Device.CUDA.resolve(plain, oneGpu))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the Spark session has no GPU resources");
  }

  /** A machine with one GPU and the RAPIDS jar, faked: no GPU can run here. */
  static final GpuProbe ONE_GPU =
      new GpuProbe() {
        @Override
        public List<String> gpus() {
          return List.of("/dev/nvidia0");
        }

        @Override
        public boolean rapidsOnClasspath() {
          return true;
        }
      };

  @Test
  void theGpuProfileGivesXGBoostCudaWithoutCallingIntoCuda(SparkSession spark) {
    // the session configuration the gpu profile builds on a GPU node with 4-core executors
    SparkConf gpuSession =
        kiln.core.SparkSessions.conf(
            new kiln.core.SparkSettings(
                kiln.core.SparkProfile.GPU,
                "spark://127.0.0.1:7077",
                null,
                Map.of("spark.executor.cores", "4", "spark.task.cpus", "2")),
            ONE_GPU);
    TrainConfig config =
        TestFlights.exampleTraining("/nowhere/features").toBuilder()
            .model("delays")
            .device(Device.AUTO)
            .hyperparameters(Map.of("max_depth", 4))
            .build();

    var estimator =
        (ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier)
            Trainer.estimator(config, gpuSession, ONE_GPU, 8, spark.emptyDataFrame());

    // what XGBoost receives; nothing was fitted, so no CUDA code ran
    assertThat(estimator.getDevice()).isEqualTo("cuda");
    assertThat(estimator.getTreeMethod()).isEqualTo("hist");
    assertThat(estimator.getNthread()).isEqualTo(2); // never more than spark.task.cpus
    assertThat(estimator.getNumWorkers()).isEqualTo(1); // the example config's numWorkers
    assertThat(estimator.getMaxDepth()).isEqualTo(4);
    assertThat(estimator.getObjective()).isEqualTo("binary:logistic");
    assertThat(gpuSession.get("spark.task.resource.gpu.amount")).isEqualTo("0.25");

    // the same config on a session without GPU resources, or on a machine without a GPU: cpu
    SparkConf cpuSession = new SparkConf(false).set("spark.task.cpus", "1");
    assertThat(
            ((ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier)
                    Trainer.estimator(config, cpuSession, ONE_GPU, 2, spark.emptyDataFrame()))
                .getDevice())
        .isEqualTo("cpu");
    // a driver without a GPU on a cluster whose executors have them: cuda, since XGBoost trains
    // in the executors' tasks (Device.decide; DeviceTest)
    assertThat(
            ((ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier)
                    Trainer.estimator(config, gpuSession, NO_GPU, 2, spark.emptyDataFrame()))
                .getDevice())
        .isEqualTo("cuda");
    // the same resources in local mode, where the tasks run on this machine without a GPU: cpu
    SparkConf localGpuSession = gpuSession.clone().setMaster("local[2]");
    assertThat(
            ((ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier)
                    Trainer.estimator(config, localGpuSession, NO_GPU, 2, spark.emptyDataFrame()))
                .getDevice())
        .isEqualTo("cpu");
  }

  @Test
  void cudaIsRefusedWithoutAGpuOrWithoutGpuResources(SparkSession spark) {
    TrainConfig cuda =
        TestFlights.exampleTraining("/nowhere/features").toBuilder()
            .model("delays")
            .device(Device.CUDA)
            .build();
    SparkConf gpuSession =
        new SparkConf(false)
            .set("spark.executor.resource.gpu.amount", "1")
            .set("spark.task.resource.gpu.amount", "1");
    assertThatThrownBy(() -> Trainer.estimator(cuda, gpuSession, NO_GPU, 2, spark.emptyDataFrame()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("this machine has no GPU");
    assertThatThrownBy(
            () -> Trainer.estimator(cuda, new SparkConf(false), ONE_GPU, 2, spark.emptyDataFrame()))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("the Spark session has no GPU resources");
  }

  /**
   * Under RAPIDS (the gpu profile's session: the plugin in spark.plugins) xgboost4j-spark-gpu reads
   * feature columns by name and no vector (GpuXGBoostPlugin, 3.4.0): XGBoost gets the prepared
   * columns, each feature a double with NaN for null, as scoring prepares them. On a CPU it keeps
   * its vector.
   */
  @Test
  void underRapidsXGBoostReadsEachFeatureByNameAndOnTheCpuItsVector(
      SparkSession spark, @TempDir Path dir) {
    SparkConf gpuSession =
        kiln.core.SparkSessions.conf(
            new kiln.core.SparkSettings(
                kiln.core.SparkProfile.GPU, "spark://127.0.0.1:7077", null, Map.of()),
            ONE_GPU);
    assertThat(kiln.core.SparkSessions.runsRapids(gpuSession)).isTrue();
    TrainConfig config =
        TestFlights.exampleTraining("/nowhere/features").toBuilder()
            .model("delays")
            .device(Device.AUTO)
            .build();
    List<String> byName = ModelFiles.featureColumnNames(config.featureColumns().size());
    assertThat(byName).startsWith("kiln_feature_0").hasSize(13);

    var gpu =
        (ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier)
            Trainer.estimator(config, gpuSession, ONE_GPU, 8, spark.emptyDataFrame());
    assertThat(gpu.getFeaturesCols()).containsExactlyElementsOf(byName);
    assertThat(gpu.getFeatureNames()).containsExactlyElementsOf(config.featureColumns());
    assertThat(gpu.getDevice()).isEqualTo("cuda");
    var regressor =
        (ml.dmlc.xgboost4j.scala.spark.XGBoostRegressor)
            Trainer.estimator(
                config.toBuilder().task(Task.REGRESSOR).label("delay").build(),
                gpuSession,
                ONE_GPU,
                8,
                spark.emptyDataFrame());
    assertThat(regressor.getFeaturesCols()).containsExactlyElementsOf(byName);
    // RAPIDS switched off in the same session, and a CPU session: the vector
    for (SparkConf cpu :
        List.of(
            gpuSession.clone().set("spark.rapids.sql.enabled", "false"),
            new SparkConf(false).set("spark.task.cpus", "1"))) {
      var vector =
          (ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier)
              Trainer.estimator(config, cpu, ONE_GPU, 2, spark.emptyDataFrame());
      assertThat(vector.isSet(vector.featuresCols())).isFalse();
      assertThat(vector.getFeaturesCol()).isEqualTo(ModelFiles.FEATURES_VECTOR);
    }
    // Spark ML's logistic regression reads its vector anywhere
    assertThat(
            Trainer.estimator(
                    config.toBuilder().algorithm(Algorithm.LOGISTIC_REGRESSION).build(),
                    gpuSession,
                    ONE_GPU,
                    8,
                    spark.emptyDataFrame())
                .getFeaturesCol())
        .isEqualTo(ModelFiles.FEATURES_VECTOR);

    // the rows prepared for a fit by name: the features as double columns, null as NaN, the
    // values the vector path assembles; no vector
    String features = withNullFeatures(spark, dir, featureTable(spark, dir, 40));
    TrainConfig training = config(features, Task.CLASSIFIER, null, Map.of(), Device.CPU);
    Trainer.Prepared named = new Trainer(spark, NO_GPU).withFeaturesByName(true).prepare(training);
    Trainer.Prepared vector = new Trainer(spark, NO_GPU).prepare(training);
    assertThat(named.featuresCols()).containsExactlyElementsOf(byName);
    assertThat(vector.featuresCols()).isEmpty();
    assertThat(
            ((ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier) named.estimator()).getFeaturesCols())
        .containsExactlyElementsOf(byName);
    assertThat(named.train().columns())
        .contains(byName.toArray(new String[0]))
        .doesNotContain(ModelFiles.FEATURES_VECTOR);
    assertThat(named.validation().columns())
        .contains(byName.toArray(new String[0]))
        .doesNotContain(ModelFiles.FEATURES_VECTOR);
    for (String column : byName) {
      assertThat(named.train().schema().apply(column).dataType())
          .isEqualTo(org.apache.spark.sql.types.DataTypes.DoubleType);
    }
    List<org.apache.spark.sql.Row> columns =
        named
            .train()
            .select(
                org.apache.spark.sql.functions.col("flight_id"),
                org.apache.spark.sql.functions.array(
                    byName.stream()
                        .map(org.apache.spark.sql.functions::col)
                        .toArray(org.apache.spark.sql.Column[]::new)))
            .orderBy("flight_id")
            .collectAsList();
    List<org.apache.spark.sql.Row> vectors =
        vector
            .train()
            .select(
                org.apache.spark.sql.functions.col("flight_id"),
                org.apache.spark.ml.functions.vector_to_array(
                    org.apache.spark.sql.functions.col(ModelFiles.FEATURES_VECTOR), "float64"))
            .orderBy("flight_id")
            .collectAsList();
    assertThat(columns).hasSize(vectors.size()).isNotEmpty();
    long nans = 0;
    for (int i = 0; i < columns.size(); i++) {
      List<Double> values = columns.get(i).getList(1);
      assertThat(values).as("row %s", i).isEqualTo(vectors.get(i).getList(1));
      nans += values.stream().filter(v -> v.isNaN()).count();
    }
    assertThat(nans).isPositive();
  }

  /**
   * Fitted on the features by name (the RAPIDS path, taken here on a CPU) or on the vector, XGBoost
   * learns the same model from the same values: the saved models score alike, and the one fitted by
   * name is saved reading the vector, as every CPU path reads it.
   */
  @Test
  void aModelFittedOnTheFeaturesByNameScoresAsOneFittedOnTheVector(
      SparkSession spark, @TempDir Path dir) {
    String features = withNullFeatures(spark, dir, featureTable(spark, dir, 40));
    TrainConfig config = config(features, Task.CLASSIFIER, null, Map.of(), Device.CPU);
    TrainingResult vector = new Trainer(spark, NO_GPU).train(config, dir.resolve("vector"));
    TrainingResult named =
        new Trainer(spark, NO_GPU).withFeaturesByName(true).train(config, dir.resolve("named"));

    assertThat(named.evaluation().metrics())
        .containsExactlyInAnyOrderEntriesOf(vector.evaluation().metrics());
    assertThat(named.featureImportance()).isEqualTo(vector.featureImportance());
    ModelFiles byName = ModelFiles.load(dir.resolve("named"));
    var saved = (ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel) byName.model();
    assertThat(saved.isSet(saved.featuresCols())).isFalse();
    assertThat(saved.getFeaturesCol()).isEqualTo(ModelFiles.FEATURES_VECTOR);
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> rows =
        new Datasets(spark).read(kiln.core.DatasetRef.parse(features));
    List<org.apache.spark.sql.Row> expected =
        ModelFiles.load(dir.resolve("vector"))
            .score(rows)
            .select("flight_id", ModelFiles.SCORE)
            .orderBy("flight_id")
            .collectAsList();
    List<org.apache.spark.sql.Row> actual =
        byName
            .score(rows)
            .select("flight_id", ModelFiles.SCORE)
            .orderBy("flight_id")
            .collectAsList();
    assertThat(actual).hasSize(40).hasSameSizeAs(expected);
    for (int i = 0; i < actual.size(); i++) {
      assertThat(actual.get(i).getLong(0)).isEqualTo(expected.get(i).getLong(0));
      assertThat(actual.get(i).getDouble(1))
          .isCloseTo(expected.get(i).getDouble(1), org.assertj.core.data.Offset.offset(1e-6));
    }
  }

  /** {@code features} with a missing distance in every third hour (a new table). */
  private static String withNullFeatures(SparkSession spark, Path dir, String features) {
    String nulls = dir.resolve("null-features").toString();
    new Datasets(spark)
        .write(
            new Datasets(spark)
                .read(kiln.core.DatasetRef.parse(features))
                .withColumn(
                    "distance",
                    org.apache.spark.sql.functions.expr("if(hour % 3 = 0, null, distance)")),
            nulls,
            WriteOptions.of(WriteMode.OVERWRITE));
    return nulls;
  }
}
