package kiln.jobs.modeldrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import kiln.core.BadInputException;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.GpuProbe;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.models.ModelUri;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.drift.ChunkValue;
import kiln.drift.Chunking;
import kiln.drift.DriftConfig;
import kiln.drift.DriftInput;
import kiln.drift.DriftResult;
import kiln.drift.FeatureDrift;
import kiln.drift.PerformanceEstimate;
import kiln.drift.Role;
import kiln.drift.Verdict;
import kiln.tracking.server.TrackingServer;
import kiln.training.Device;
import kiln.training.RegisteredVersion;
import kiln.training.TrainConfig;
import kiln.training.TrainingJob;
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
 * Prediction, label and performance drift of a model trained and registered by the real training
 * job against a real tracking server. The current data keeps the features' distribution but
 * reverses what makes a flight late (concept drift): only the label and the model's performance may
 * change.
 */
@ExtendWith(SharedSpark.class)
class ModelDriftTest {
  private static final StructType SCHEMA =
      new StructType()
          .add("id", DataTypes.LongType)
          .add("hour", DataTypes.DoubleType)
          .add("distance", DataTypes.DoubleType)
          .add("label", DataTypes.DoubleType);

  /** Late mostly in the evening, or (reversed) mostly outside it. */
  private static Dataset<Row> flights(
      SparkSession spark, int n, long firstId, int seed, boolean reversed) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      double hour = random.nextInt(24);
      boolean evening = hour >= 17;
      double late = random.nextDouble() < (evening != reversed ? 0.8 : 0.1) ? 1 : 0;
      rows.add(RowFactory.create(firstId + i, hour, 100.0 + random.nextInt(2000), late));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  private static final GpuProbe NO_GPU =
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

  @Test
  void measuresPredictionLabelAndPerformanceDrift(SparkSession spark, @TempDir Path dir)
      throws Exception {
    Datasets datasets = new Datasets(spark);
    String features = dir.resolve("features").toString();
    datasets.write(
        flights(spark, 1500, 0, 1, false), features, WriteOptions.of(WriteMode.OVERWRITE));
    String current = dir.resolve("current").toString();
    datasets.write(
        flights(spark, 800, 100_000, 2, true), current, WriteOptions.of(WriteMode.OVERWRITE));
    DriftConfig config =
        DriftConfig.defaults()
            .withTables(dir.resolve("profiles").toString(), dir.resolve("history").toString());
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
      RegisteredVersion trained;
      try (TrackedRun run = tracking.startRun("test", "train", Map.of())) {
        trained =
            new TrainingJob(spark, NO_GPU)
                .run(
                    TrainConfig.builder()
                        .features(features)
                        .model("delays")
                        .task(Task.CLASSIFIER)
                        .label("label")
                        .featureColumns(List.of("hour", "distance"))
                        .key("id")
                        .hyperparameters(Map.of("max_depth", 3))
                        .numRound(20)
                        .earlyStoppingRounds(5)
                        .device(Device.CPU)
                        .numWorkers(1)
                        .nthread(1)
                        .groupColumns(List.of())
                        .minGroupRows(10)
                        .build(),
                    tracking,
                    run);
      }
      tracking.setAlias("delays", "champion", trained.version().version());
      double testAuc = trained.training().evaluation().metrics().get("auc_roc");
      assertThat(testAuc).isGreaterThan(0.75);
      ModelDrift drift = new ModelDrift(spark, tracking, config, m -> {});
      ModelUri champion = ModelUri.parse("models:/delays@champion");

      // labels in the current data: the reference is the model's test split
      long featuresResolved = Datasets.resolutions(features);
      long currentResolved = Datasets.resolutions(current);
      ModelDrift.Result labelled =
          drift.run(champion, null, DriftInput.of(DatasetRef.parse(current)), null);
      DriftResult result = labelled.drift();
      // each table is resolved once: the schema check, both profiles and the performance share the
      // version
      assertThat(Datasets.resolutions(features) - featuresResolved).isEqualTo(1);
      assertThat(Datasets.resolutions(current) - currentResolved).isEqualTo(1);
      assertThat(result.reference().label()).contains("test split of delays v1");
      long testRows = trained.training().testRows();
      assertThat(result.referenceRows()).isEqualTo(testRows);
      assertThat(result.currentRows()).isEqualTo(800);
      assertThat(result.withRole(Role.FEATURE))
          .extracting(FeatureDrift::name)
          .containsExactlyInAnyOrder("hour", "distance");
      assertThat(result.withRole(Role.FEATURE))
          .allSatisfy(f -> assertThat(f.verdict()).isEqualTo(Verdict.STABLE));
      FeatureDrift prediction = result.withRole(Role.PREDICTION).get(0);
      assertThat(prediction.name()).isEqualTo(ModelDrift.SCORE);
      assertThat(prediction.statistics()).containsKeys("psi", "ks_statistic");
      FeatureDrift label = result.withRole(Role.LABEL).get(0);
      assertThat(label.verdict()).as("%s", label.reasons()).isEqualTo(Verdict.DRIFTED);
      FeatureDrift performance = labelled.performance().orElseThrow();
      assertThat(performance.role()).isEqualTo(Role.PERFORMANCE);
      assertThat(performance.name()).isEqualTo("auc_roc");
      assertThat(performance.statistics().get("test")).isEqualTo(testAuc);
      assertThat(performance.statistics().get("labelled_rows")).isEqualTo(800.0);
      assertThat(performance.statistics().get("current")).isLessThan(0.5);
      assertThat(performance.statistics().get("relative_degradation")).isGreaterThan(0.3);
      assertThat(performance.verdict()).isEqualTo(Verdict.DRIFTED);
      assertThat(performance.reasons().get(0))
          .contains("auc_roc")
          .contains("on 800 labelled rows")
          .contains("> 5.0%");
      assertThat(result.drifted()).isTrue();
      assertThat(result.summary()).contains("performance DRIFTED");
      assertThat(result.features().get(0)).isEqualTo(performance);

      // the same model on data like its training data: performance holds, nothing drifts; the
      // stored
      // reference profile (scored test split) is reused
      String same = dir.resolve("same").toString();
      datasets.write(
          flights(spark, 800, 200_000, 3, false), same, WriteOptions.of(WriteMode.OVERWRITE));
      ModelDrift.Result steady =
          drift.run(champion, null, DriftInput.of(DatasetRef.parse(same)), null);
      assertThat(steady.drift().referenceProfileReused()).isTrue();
      assertThat(steady.performance().orElseThrow().verdict()).isEqualTo(Verdict.STABLE);
      assertThat(steady.performance().orElseThrow().statistics().get("current"))
          .isGreaterThan(0.75);

      // CBPE: the scores calibrated on the test split estimate the AUC of each 400-row chunk; the
      // labels this data has give the realized AUC beside it. The test split is ~300 rows, so the
      // calibration is coarse: 0.08 is about three standard errors of a 400-row AUC
      ModelDrift.Result estimated =
          new ModelDrift(spark, tracking, config, m -> {}, Chunking.count(2), true)
              .run(champion, null, DriftInput.of(DatasetRef.parse(same)), null);
      PerformanceEstimate auc = estimated.drift().estimated().get(0);
      assertThat(auc.metric()).isEqualTo("roc_auc");
      assertThat(auc.current()).hasSize(2);
      for (ChunkValue chunk : auc.current()) {
        assertThat(chunk.rows()).isEqualTo(400);
        assertThat(chunk.realized()).isGreaterThan(0.75);
        assertThat(chunk.value()).isCloseTo(chunk.realized(), within(0.08));
      }
      assertThat(estimated.drift().chunks()).hasSize(2);

      // labels that arrive later, for 600 of the 800 predictions, joined by key
      String predictions = dir.resolve("predictions").toString();
      datasets.write(
          datasets.read(DatasetRef.parse(current)).drop("label"),
          predictions,
          WriteOptions.of(WriteMode.OVERWRITE));
      String labels = dir.resolve("labels").toString();
      datasets.write(
          datasets.read(DatasetRef.parse(current)).where("id < 100600").select("id", "label"),
          labels,
          WriteOptions.of(WriteMode.OVERWRITE));
      long predictionsResolved = Datasets.resolutions(predictions);
      long labelsResolved = Datasets.resolutions(labels);
      ModelDrift.Result late =
          drift.run(
              champion,
              null,
              DriftInput.of(DatasetRef.parse(predictions)),
              new ModelDrift.LateLabels(DatasetRef.parse(labels), List.of("id")));
      assertThat(Datasets.resolutions(predictions) - predictionsResolved).isEqualTo(1);
      assertThat(Datasets.resolutions(labels) - labelsResolved).isEqualTo(1);
      FeatureDrift lateLabel = late.drift().withRole(Role.LABEL).get(0);
      assertThat(lateLabel.statistics().get("null_rate_current")).isEqualTo(0.25);
      assertThat(lateLabel.reasons())
          .anyMatch(r -> r.contains("25.0% of the current rows have no label yet"));
      assertThat(late.performance().orElseThrow().statistics().get("labelled_rows"))
          .isEqualTo(600.0);
      assertThat(late.performance().orElseThrow().verdict()).isEqualTo(Verdict.DRIFTED);

      // no labels at all: prediction drift only, no performance
      ModelDrift.Result unlabelled =
          drift.run(champion, null, DriftInput.of(DatasetRef.parse(predictions)), null);
      assertThat(unlabelled.performance()).isEmpty();
      assertThat(unlabelled.drift().withRole(Role.LABEL)).isEmpty();
      assertThat(unlabelled.drift().withRole(Role.PREDICTION)).hasSize(1);

      // bad input: named, nothing measured
      assertThatThrownBy(
              () ->
                  drift.run(
                      champion,
                      null,
                      DriftInput.of(DatasetRef.parse(predictions)),
                      new ModelDrift.LateLabels(DatasetRef.parse(labels), List.of("flight"))))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("flight");
      assertThatThrownBy(
              () ->
                  drift.run(
                      ModelUri.parse("models:/delays@gold"),
                      null,
                      DriftInput.of(DatasetRef.parse(current)),
                      null))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("has no alias 'gold'");
      String narrow = dir.resolve("narrow").toString();
      datasets.write(
          flights(spark, 10, 0, 4, false).drop("distance"),
          narrow,
          WriteOptions.of(WriteMode.OVERWRITE));
      assertThatThrownBy(
              () -> drift.run(champion, null, DriftInput.of(DatasetRef.parse(narrow)), null))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("distance");
    }
  }

  /** Delay minutes: longer and far noisier in the evening; {@code eveningShare} of the flights. */
  private static Dataset<Row> delays(SparkSession spark, int n, int seed, double eveningShare) {
    Random random = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      boolean evening = random.nextDouble() < eveningShare;
      double hour = evening ? 17 + random.nextInt(7) : random.nextInt(17);
      double distance = 100.0 + random.nextInt(2000);
      double delay =
          (evening ? 30 : 5) + distance / 200 + (evening ? 20 : 2) * random.nextGaussian();
      rows.add(RowFactory.create((long) i, hour, distance, delay));
    }
    return spark.createDataFrame(rows, SCHEMA);
  }

  @Test
  void estimatesARegressorsErrorsWithoutLabelsByDirectLossEstimation(
      SparkSession spark, @TempDir Path dir) throws Exception {
    Datasets datasets = new Datasets(spark);
    String features = dir.resolve("features").toString();
    datasets.write(delays(spark, 1500, 1, 0.3), features, WriteOptions.of(WriteMode.OVERWRITE));
    // more evening flights: the model's errors grow though the model did not change
    String current = dir.resolve("current").toString();
    datasets.write(delays(spark, 800, 2, 0.7), current, WriteOptions.of(WriteMode.OVERWRITE));
    DriftConfig config = DriftConfig.defaults();
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
      try (TrackedRun run = tracking.startRun("test", "train", Map.of())) {
        new TrainingJob(spark, NO_GPU)
            .run(
                TrainConfig.builder()
                    .features(features)
                    .model("minutes")
                    .task(Task.REGRESSOR)
                    .label("label")
                    .featureColumns(List.of("hour", "distance"))
                    .key("id")
                    .hyperparameters(Map.of("max_depth", 3))
                    .numRound(20)
                    .earlyStoppingRounds(5)
                    .device(Device.CPU)
                    .numWorkers(1)
                    .nthread(1)
                    .groupColumns(List.of())
                    .minGroupRows(10)
                    .build(),
                tracking,
                run);
      }
      ModelUri model = ModelUri.parse("models:/minutes/1");
      ModelDrift.Result estimated =
          new ModelDrift(
                  spark, tracking, config, m -> {}, Chunking.count(2), true, List.of("MAE", "rmse"))
              .run(model, null, DriftInput.of(DatasetRef.parse(current)), null);
      List<PerformanceEstimate> estimates = estimated.drift().estimated();
      assertThat(estimates).extracting(PerformanceEstimate::metric).containsExactly("mae", "rmse");
      for (PerformanceEstimate e : estimates) {
        assertThat(e.method()).isEqualTo("DLE");
        assertThat(e.current()).hasSize(2);
        for (ChunkValue chunk : e.current()) {
          // 400 rows of errors with a std near 12 minutes: the estimate is within ~3 standard
          // errors of the realized metric, and above the reference's band (alert)
          assertThat(chunk.rows()).isEqualTo(400);
          assertThat(chunk.samplingError()).isPositive();
          assertThat(chunk.value()).isCloseTo(chunk.realized(), within(0.15 * chunk.realized()));
          assertThat(chunk.value()).as("%s %s", e.metric(), chunk).isGreaterThan(e.upper());
          assertThat(chunk.alert()).isTrue();
        }
      }
      assertThat(estimated.drift().drifted()).isTrue();

      // classification metrics of a regressor: bad input, before any data is read
      assertThatThrownBy(
              () ->
                  new ModelDrift(spark, tracking, config, m -> {}, null, true, List.of("roc_auc"))
                      .run(model, null, DriftInput.of(DatasetRef.parse(current)), null))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("'roc_auc' is a classification metric, asked of a regressor");
    }
  }
}
