package kiln.inference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import kiln.tracking.server.TrackingServer;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.ml.feature.VectorAssembler;
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
 * Scoring with registered models from a real tracking server; the models are trained here with
 * XGBoost directly.
 */
@ExtendWith(SharedSpark.class)
class ScoreJobTest {
  static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.LongType)
          .add("hour", DataTypes.DoubleType)
          .add("distance", DataTypes.DoubleType)
          .add("label", DataTypes.DoubleType);

  static Dataset<Row> rows(SparkSession spark, int n) {
    Random random = new Random(3);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double hour = random.nextInt(24);
      double late = random.nextDouble() < (hour >= 17 ? 0.7 : 0.1) ? 1 : 0;
      rows.add(RowFactory.create((long) i, hour, 100.0 + random.nextInt(2000), late));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  /** Trains a classifier, lays it out as `kiln train` does, uploads it and registers a version. */
  static Tracking.ModelVersion register(
      SparkSession spark, Tracking tracking, Dataset<Row> data, int depth, Path dir)
      throws Exception {
    XGBoostClassifier classifier = new XGBoostClassifier();
    classifier.setFeaturesCol("kiln_features");
    classifier.setLabelCol("label");
    classifier.setObjective("binary:logistic");
    classifier.setMaxDepth(depth);
    classifier.setNumRound(10);
    classifier.setNumWorkers(1);
    classifier.setNthread(1);
    classifier.setDevice("cpu");
    classifier.setForceRepartition(true);
    XGBoostClassificationModel model =
        classifier.fit(
            new VectorAssembler()
                .setInputCols(new String[] {"hour", "distance"})
                .setOutputCol("kiln_features")
                .transform(data));
    Path files = dir.resolve("depth" + depth);
    ModelInfo info =
        ModelInfo.builder()
            .task(Task.CLASSIFIER)
            .label("label")
            .featureColumns(List.of("hour", "distance"))
            .key("id")
            .featureTable(dir.resolve("data").toString(), 0)
            .hyperparameters(Map.of("max_depth", depth, "num_round", 10))
            .build();
    ModelFiles.save(model, info, files);
    try (TrackedRun run = tracking.startRun("test", "train", Map.of());
        Stream<Path> walk = Files.walk(files)) {
      for (Path file :
          walk.filter(Files::isRegularFile).filter(p -> !p.toString().endsWith(".crc")).toList()) {
        run.logArtifact(file, "model/" + files.relativize(file).toString().replace('\\', '/'));
      }
      return tracking.registerModel("delays", run.artifactUri() + "/model", run.id(), Map.of());
    }
  }

  @Test
  void scoresWithChampionComparesTheShadowAndReports(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Datasets datasets = new Datasets(spark);
    String data = dir.resolve("data").toString();
    datasets.write(rows(spark, 300), data, WriteOptions.of(WriteMode.OVERWRITE));
    datasets.write(rows(spark, 10), data, WriteOptions.of(WriteMode.APPEND));
    String output = dir.resolve("predictions").toString();
    try (TrackingServer server =
            TrackingServer.builder()
                .host("127.0.0.1")
                .port(0)
                .storeDirectory(dir.resolve("store"))
                .build()
                .start();
        MlflowTracking tracking =
            MlflowTracking.connect(
                server.uri().toString(),
                Map.of(),
                dir.resolve("spool"),
                m -> {},
                2,
                Duration.ofMillis(10))) {
      Dataset<Row> training = datasets.read(DatasetRef.atVersion(data, 0));
      register(spark, tracking, training, 3, dir);
      register(spark, tracking, training, 1, dir);
      tracking.setAlias("delays", "champion", "1");
      tracking.setAlias("delays", "challenger", "2");

      ScoreResult result;
      try (TrackedRun run = tracking.startRun("test", "score", Map.of())) {
        result =
            new ScoreJob(spark, tracking)
                .run(
                    ScoreConfig.of(
                        "models:/delays@champion",
                        data + "@0",
                        output,
                        "models:/delays@challenger"),
                    run);
      }
      assertThat(result.modelVersion()).isEqualTo("1");
      assertThat(result.rows()).isEqualTo(300);
      assertThat(result.errorRows()).isZero();
      assertThat(result.output()).isEqualTo(DatasetRef.atVersion(output, 0));
      assertThat(result.partitionMillisP99())
          .isGreaterThanOrEqualTo(result.partitionMillisP50())
          .isGreaterThanOrEqualTo(0);
      // what the registered models say row by row, straight from XGBoost's transform
      Map<Long, double[]> champion = transformed(savedModel(dir.resolve("depth3")), training);
      Map<Long, double[]> challenger = transformed(savedModel(dir.resolve("depth1")), training);
      long agreeing =
          champion.keySet().stream()
              .filter(id -> champion.get(id)[0] == challenger.get(id)[0])
              .count();
      double maxDifference =
          champion.keySet().stream()
              .mapToDouble(id -> Math.abs(champion.get(id)[1] - challenger.get(id)[1]))
              .max()
              .orElseThrow();

      ScoreResult.ShadowComparison shadow = result.shadow().orElseThrow();
      assertThat(shadow.version()).isEqualTo("2");
      assertThat(shadow.rows()).isEqualTo(300);
      assertThat(shadow.agreement()).isEqualTo(agreeing / 300.0);
      assertThat(shadow.maxAbsoluteDifference())
          .isCloseTo(maxDifference, within(1e-12))
          .isGreaterThanOrEqualTo(shadow.medianAbsoluteDifference());
      assertThat(maxDifference)
          .as("the two models differ, so the comparison means something")
          .isPositive();

      Dataset<Row> written = datasets.read(result.output());
      assertThat(written.columns())
          .contains(
              "id",
              "hour",
              "prediction",
              "probability",
              ScoreJob.MODEL_NAME,
              ScoreJob.MODEL_VERSION,
              ScoreJob.INPUT_TABLE,
              ScoreJob.INPUT_VERSION,
              ScoreJob.SCORED_AT);
      assertThat(written.columns()).doesNotContain("rawPrediction", "kiln_features");
      List<Row> scored = written.select("id", "prediction", "probability").collectAsList();
      assertThat(scored).hasSize(300);
      for (Row row : scored) {
        double[] want = champion.get(row.getLong(0));
        assertThat(row.getDouble(1)).as("prediction of id %d", row.getLong(0)).isEqualTo(want[0]);
        assertThat(row.getDouble(2))
            .as("probability of id %d", row.getLong(0))
            .isCloseTo(want[1], within(1e-12));
      }
      assertThat(
              written
                  .select(ScoreJob.MODEL_VERSION, ScoreJob.INPUT_VERSION)
                  .distinct()
                  .collectAsList())
          .extracting(r -> r.getString(0) + "@" + r.getLong(1))
          .containsExactly("1@0");

      // by version, a second run appends a new version
      try (TrackedRun run = tracking.startRun("test", "score", Map.of())) {
        ScoreResult again =
            new ScoreJob(spark, tracking)
                .run(ScoreConfig.of("models:/delays/2", data, output, null), run);
        assertThat(again.input().version()).isEqualTo(1);
        assertThat(again.output().version()).isEqualTo(1);
        assertThat(again.rows()).isEqualTo(310);
        assertThat(again.shadow()).isEmpty();
      }

      // the same model version, table version and rows again (a scheduler's re-run): nothing
      // appended a second time; other rows of the same table version (--where) are a new write
      try (TrackedRun run = tracking.startRun("test", "score", Map.of())) {
        ScoreJob job = new ScoreJob(spark, tracking);
        ScoreResult rerun = job.run(ScoreConfig.of("models:/delays/2", data, output, null), run);
        assertThat(rerun.output().version()).isEqualTo(1);
        ScoreResult some =
            job.run(ScoreConfig.of("models:/delays/2", data, output, null).where("id < 7"), run);
        assertThat(some.output().version()).isEqualTo(2);
        assertThat(some.rows())
            .isEqualTo(datasets.read(DatasetRef.atVersion(data, 1)).filter("id < 7").count())
            .isPositive();
        assertThat(
                job.run(ScoreConfig.of("models:/delays/2", data, output, null).where("id < 7"), run)
                    .output()
                    .version())
            .isEqualTo(2);
        assertThat(datasets.read(DatasetRef.atVersion(output, 2)).count())
            .isEqualTo(300 + 310 + some.rows());
      }

      // bad input: said clearly, nothing written
      try (TrackedRun run = tracking.startRun("test", "score", Map.of())) {
        ScoreJob job = new ScoreJob(spark, tracking);
        assertThatThrownBy(
                () -> job.run(ScoreConfig.of("models:/delays@gold", data, output, null), run))
            .isInstanceOf(BadInputException.class)
            .hasMessageContaining(
                "model delays has no alias 'gold'; it has challenger (version 2), champion (version 1)");
        assertThatThrownBy(
                () -> job.run(ScoreConfig.of("models:/delays/7", data, output, null), run))
            .isInstanceOf(BadInputException.class)
            .hasMessageContaining("model delays has no version 7; it has versions 1, 2");
        assertThatThrownBy(
                () -> job.run(ScoreConfig.of("models:/nope@champion", data, output, null), run))
            .isInstanceOf(BadInputException.class)
            .hasMessageContaining("there is no registered model 'nope'");
        String narrow = dir.resolve("narrow").toString();
        datasets.write(
            rows(spark, 5).drop("distance"), narrow, WriteOptions.of(WriteMode.OVERWRITE));
        assertThatThrownBy(
                () -> job.run(ScoreConfig.of("models:/delays/1", narrow, output, null), run))
            .isInstanceOf(BadInputException.class)
            .hasMessageContaining("lacks column 'distance'");
        assertThatThrownBy(() -> ScoreConfig.of("delays@champion", data, output, null))
            .isInstanceOf(BadInputException.class)
            .hasMessageContaining("malformed model URI");
      }
      assertThat(datasets.latestVersion(output)).isEqualTo(2);
    }
  }

  /**
   * Under RAPIDS, scoring prepares the features as plain columns (casts, null as NaN) and an
   * XGBoost model reads them by name; a Spark ML model still gets its vector. On the CPU both paths
   * run: same columns, types, order and values (scored_at aside, a time per query).
   */
  @Test
  void theGpuShapedPathGivesTheSameRowsAsTheVectorPath(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Dataset<Row> data = rows(spark, 60);
    XGBoostClassifier classifier = new XGBoostClassifier();
    classifier.setFeaturesCol("kiln_features");
    classifier.setLabelCol("label");
    classifier.setObjective("binary:logistic");
    classifier.setNumRound(3);
    classifier.setNumWorkers(1);
    classifier.setNthread(1);
    classifier.setDevice("cpu");
    Dataset<Row> assembled = ModelFiles.assemble(data, List.of("hour", "distance"));
    ModelInfo info =
        ModelInfo.builder()
            .task(Task.CLASSIFIER)
            .label("label")
            .featureColumns(List.of("hour", "distance"))
            .key("id")
            .featureTable(dir.resolve("data").toString(), 0)
            .build();
    ModelFiles xgboost =
        ModelFiles.load(
            ModelFiles.save(classifier.fit(assembled), info, dir.resolve("xgboost")).directory());
    ModelFiles logistic =
        ModelFiles.load(
            ModelFiles.save(
                    new org.apache.spark.ml.classification.LogisticRegression()
                        .setFeaturesCol(ModelFiles.FEATURES_VECTOR)
                        .setMaxIter(5)
                        .fit(assembled),
                    info,
                    dir.resolve("logistic"))
                .directory());
    assertThat(xgboost.readsFeatureColumns()).isTrue();
    assertThat(logistic.readsFeatureColumns()).isFalse();
    // what XGBoost's GPU transform receives under RAPIDS (it needs a GPU to run): the prepared
    // columns by name
    XGBoostClassificationModel byName =
        (XGBoostClassificationModel)
            xgboost.readingColumns(List.of("kiln_feature_0", "kiln_feature_1"));
    assertThat(byName.getFeaturesCols()).containsExactly("kiln_feature_0", "kiln_feature_1");
    assertThat(byName.nativeBooster())
        .isSameAs(((XGBoostClassificationModel) xgboost.model()).nativeBooster());
    // ten rows to score: a missing hour, a missing distance, an integer-typed feature, and a
    // column named as a provenance column (replaced in place on both paths)
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      rows.add(
          RowFactory.create(
              (long) i, i == 3 ? null : 2 * i + 1, i == 5 ? null : 150.0 * i + 90.0, "old"));
    }
    Dataset<Row> toScore =
        spark.createDataFrame(
            rows,
            new StructType()
                .add("id", DataTypes.LongType)
                .add("hour", DataTypes.IntegerType)
                .add("distance", DataTypes.DoubleType)
                .add(ScoreJob.MODEL_NAME, DataTypes.StringType));
    Tracking.ModelVersion version = new Tracking.ModelVersion("delays", "3", null, null, Map.of());
    DatasetRef input = DatasetRef.parse(dir.resolve("input").toString() + "@4");
    for (ModelFiles model : List.of(xgboost, logistic)) {
      assertThat(ScoreJob.columnar(model, toScore)).isTrue();
      Dataset<Row> vector = ScoreJob.vectorPredictions(model, toScore, version, input);
      Dataset<Row> columnar = ScoreJob.columnarPredictions(model, toScore, version, input);
      assertThat(columnar.schema()).isEqualTo(vector.schema());
      assertThat(columnar.drop(ScoreJob.SCORED_AT).orderBy("id").collectAsList())
          .as(model.model().getClass().getSimpleName())
          .containsExactlyElementsOf(vector.drop(ScoreJob.SCORED_AT).orderBy("id").collectAsList());
      Row first = columnar.orderBy("id").first();
      assertThat(first.<String>getAs(ScoreJob.MODEL_NAME)).isEqualTo("delays");
      assertThat(first.<Long>getAs(ScoreJob.INPUT_VERSION)).isEqualTo(4L);
    }
    // the prepared plan: the input's columns, the provenance, the features as doubles, NaN for null
    Dataset<Row> prepared = ScoreJob.prepared(xgboost, toScore, version, input);
    assertThat(prepared.columns())
        .containsExactly(
            "id",
            "hour",
            "distance",
            ScoreJob.MODEL_NAME,
            ScoreJob.MODEL_VERSION,
            ScoreJob.INPUT_TABLE,
            ScoreJob.INPUT_VERSION,
            ScoreJob.SCORED_AT,
            "kiln_feature_0",
            "kiln_feature_1");
    Row missingHour = prepared.where("id = 3").first();
    assertThat(missingHour.<Double>getAs("kiln_feature_0")).isNaN();
    assertThat(missingHour.<Double>getAs("kiln_feature_1")).isEqualTo(540.0);
    assertThatThrownBy(() -> ScoreJob.prepared(xgboost, toScore.drop("distance"), version, input))
        .isInstanceOf(BadInputException.class)
        .hasMessageContaining("lacks column 'distance'");
  }

  @Test
  void errorRowsCountsNullAndNanPredictions(SparkSession spark) {
    List<Row> rows = new ArrayList<>();
    Double[] predictions = {1.0, null, 0.0, Double.NaN, 0.0, 1.0, null, 1.0, 0.0, 0.0};
    for (int i = 0; i < predictions.length; i++) {
      rows.add(RowFactory.create((long) i, predictions[i]));
    }
    Dataset<Row> written =
        spark.createDataFrame(
            rows,
            new StructType().add("id", DataTypes.LongType).add("prediction", DataTypes.DoubleType));
    assertThat(ScoreJob.errorRows(written).first().getLong(0)).isEqualTo(3);
  }

  /**
   * The XGBoost model saved under a registered model's directory (the folder holding Spark ML's
   * metadata).
   */
  static XGBoostClassificationModel savedModel(Path files) throws Exception {
    try (Stream<Path> walk = Files.walk(files)) {
      Path metadata =
          walk.filter(p -> p.getFileName().toString().equals("metadata") && Files.isDirectory(p))
              .findFirst()
              .orElseThrow();
      return (XGBoostClassificationModel)
          XGBoostClassificationModel.load(metadata.getParent().toString());
    }
  }

  /** id -> {prediction, probability of class 1}, by the model's own transform. */
  static Map<Long, double[]> transformed(XGBoostClassificationModel model, Dataset<Row> rows) {
    Map<Long, double[]> out = new java.util.HashMap<>();
    Dataset<Row> assembled =
        new VectorAssembler()
            .setInputCols(new String[] {"hour", "distance"})
            .setOutputCol("kiln_features")
            .transform(rows);
    for (Row row :
        model.transform(assembled).select("id", "prediction", "probability").collectAsList()) {
      out.put(
          row.getLong(0),
          new double[] {
            row.getDouble(1), ((org.apache.spark.ml.linalg.Vector) row.get(2)).apply(1)
          });
    }
    return out;
  }
}
