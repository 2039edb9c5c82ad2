package kiln.training;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import kiln.core.BadInputException;
import kiln.core.models.RegisteredModels;
import kiln.core.models.Task;
import kiln.core.testing.SharedSpark;
import kiln.core.tracking.MlflowTracking;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import kiln.tracking.server.TrackingServer;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.mlflow.api.proto.Service.Run;
import org.mlflow.api.proto.Service.RunInfo;
import org.mlflow.tracking.MlflowClient;

/**
 * Train, register, gate, promote and roll back against a real tracking server on a loopback port.
 */
@ExtendWith(SharedSpark.class)
class LifecycleTest {

  private static RegisteredVersion train(
      SparkSession spark, Tracking tracking, TrainConfig config) {
    try (TrackedRun run = tracking.startRun("test", "train", Map.of())) {
      return new TrainingJob(spark, TrainerTest.NO_GPU).run(config, tracking, run);
    }
  }

  private static GateResult gate(
      SparkSession spark, Tracking tracking, String version, GateCriteria criteria) {
    try (TrackedRun run = tracking.startRun("test", "gate", Map.of())) {
      return new ModelGate(spark, tracking).gate("delays", version, criteria, run);
    }
  }

  @Test
  void registersGatesPromotesAndRollsBack(SparkSession spark, @TempDir Path dir) throws Exception {
    String features = TrainerTest.featureTable(spark, dir, 400);
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
      RegisteredVersion first =
          train(
              spark,
              tracking,
              TrainerTest.config(
                  features, Task.CLASSIFIER, null, Map.of("max_depth", 3), Device.AUTO));
      assertThat(first.version().version()).isEqualTo("1");
      Tracking.ModelVersion registered = tracking.modelVersion("delays", "1").orElseThrow();
      assertThat(registered.tags())
          .containsEntry(TrainingJob.TAG_FEATURE_TABLE, features)
          .containsEntry(TrainingJob.TAG_FEATURE_VERSION, "0")
          .containsEntry(TrainingJob.TAG_DATA_TABLE, dir.resolve("flights").toString())
          .containsEntry(TrainingJob.TAG_DATA_VERSION, "0")
          .containsEntry(TrainingJob.TAG_MODEL_SHA256, first.training().sha256())
          .containsKey(TrainingJob.TAG_CODE_VERSION);
      assertThat(registered.source()).startsWith("mlflow-artifacts:/").endsWith("/artifacts/model");

      // the first model passes on the absolute threshold and becomes champion
      GateResult firstGate =
          gate(
              spark,
              tracking,
              "1",
              GateCriteria.builder().maxLatencyMillisPer1000Rows(60_000.0).build());
      assertThat(firstGate.promoted()).as("%s", firstGate.criteria()).isTrue();
      assertThat(firstGate.champion()).isNull();
      assertThat(firstGate.candidateMetrics().get("auc_roc"))
          .isEqualTo(first.training().evaluation().metrics().get("auc_roc"));
      assertThat(tracking.versionByAlias("delays", ModelGate.CHAMPION).orElseThrow().version())
          .isEqualTo("1");

      RegisteredVersion second =
          train(
              spark,
              tracking,
              TrainerTest.config(
                  features, Task.CLASSIFIER, null, Map.of("max_depth", 2, "eta", 0.5), Device.CPU));
      GateResult refused =
          gate(
              spark,
              tracking,
              "2",
              GateCriteria.builder()
                  .minImprovement(1.0)
                  .maxLatencyMillisPer1000Rows(60_000.0)
                  .build());
      assertThat(refused.promoted()).isFalse();
      assertThat(refused.failed())
          .extracting(GateResult.Criterion::name)
          .containsExactly("min_improvement");
      assertThat(refused.failed().get(0).detail())
          .contains("vs champion (version 1)")
          .contains("at least 1.0000 needed");
      assertThat(tracking.aliases("delays")).isEqualTo(Map.of("champion", "1"));

      GateResult passed =
          gate(
              spark,
              tracking,
              second.version().version(),
              GateCriteria.builder()
                  .minImprovement(-1.0)
                  .maxGroupGap(1.0)
                  .maxLatencyMillisPer1000Rows(60_000.0)
                  .build());
      assertThat(passed.promoted()).isTrue();
      assertThat(tracking.aliases("delays")).isEqualTo(Map.of("champion", "2", "previous", "1"));

      assertThat(new ModelGate(spark, tracking).rollback("delays")).isEqualTo("1");
      assertThat(tracking.aliases("delays")).isEqualTo(Map.of("champion", "1"));
      assertThatThrownBy(() -> new ModelGate(spark, tracking).rollback("delays"))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("has no 'previous' version");

      // a model of another label cannot be gated against this champion: exit 2, nothing promoted
      RegisteredVersion regressor =
          train(
              spark,
              tracking,
              TrainerTest.config(features, Task.REGRESSOR, "delay", Map.of(), Device.CPU));
      assertThat(regressor.training().evaluation().metrics()).containsKeys("rmse", "mae", "r2");
      assertThat(regressor.training().evaluation().metrics().get("rmse")).isPositive();
      assertThatThrownBy(() -> gate(spark, tracking, "3", GateCriteria.defaults()))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "the champion (version 1) is a classifier of label 'label', the candidate a regressor"
                  + " of label 'delay'");
      assertThat(tracking.aliases("delays")).isEqualTo(Map.of("champion", "1"));

      // a candidate split with another seed: the champion fitted most of its test rows, so both are
      // compared on
      // the rows in both test parts; here too few (about 0.15 x 0.15 of 400) to compare, so it is
      // refused
      String reseeded = dir.resolve("features-seed7").toString();
      new FeatureJob(spark)
          .run(
              TestFlights.exampleFeatures(dir.resolve("flights").toString(), reseeded).toBuilder()
                  .seed(7L)
                  .build());
      TrainConfig seven =
          TrainerTest.config(reseeded, Task.CLASSIFIER, null, Map.of("max_depth", 2), Device.CPU);
      RegisteredVersion otherSplit = train(spark, tracking, seven.toBuilder().seed(7L).build());
      assertThatThrownBy(
              () ->
                  gate(
                      spark,
                      tracking,
                      otherSplit.version().version(),
                      GateCriteria.builder()
                          .minImprovement(-1.0)
                          .maxGroupGap(1.0)
                          .maxLatencyMillisPer1000Rows(60_000.0)
                          .build()))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining(
              "the candidate and the champion (version 1) were split differently (key flight_id, seed 7,")
          .hasMessageContaining("vs key flight_id, seed 42,")
          .hasMessageContaining("at least 100 are needed");
      assertThat(tracking.aliases("delays")).isEqualTo(Map.of("champion", "1"));

      assertThatThrownBy(() -> gate(spark, tracking, "9", GateCriteria.defaults()))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("model delays has no version 9; it has versions 1, 2, 3, 4");
      assertThatThrownBy(() -> new ModelGate(spark, tracking).rollback("nope"))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("there is no registered model 'nope'; registered: delays");
      assertThat(new RegisteredModels(tracking).alias("delays", "champion").version())
          .isEqualTo("1");
      assertThatThrownBy(() -> new RegisteredModels(tracking).alias("delays", "challenger"))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("has no alias 'challenger'; it has champion (version 1)");
      assertThat(List.of(server.artifactRoot().toFile().list())).isNotEmpty();

      // a grid search: a nested run per trial, the best by validation AUC registered, an unknown
      // name refused first
      TrainConfig base =
          TrainerTest.config(features, Task.CLASSIFIER, null, Map.of("eta", 0.3), Device.CPU);
      TrainConfig tuned =
          base.toBuilder()
              .model("tuned")
              .tuning(
                  new TuningConfig(
                      TuningConfig.Strategy.GRID, null, Map.of("max_depth", List.of(1, 4))))
              .build();
      RegisteredVersion best;
      String searchRun;
      long resolutionsBefore = kiln.core.Datasets.resolutions(features);
      try (TrackedRun run = tracking.startRun("test", "train", Map.of())) {
        searchRun = run.id();
        best = new TrainingJob(spark, TrainerTest.NO_GPU).run(tuned, tracking, run);
      }
      // the two trials train on one resolution of the feature table, not one each
      assertThat(kiln.core.Datasets.resolutions(features) - resolutionsBefore).isEqualTo(1);
      assertThat(best.version().name()).isEqualTo("tuned");
      assertThat(best.training().model().info().hyperparameters())
          .containsEntry("eta", 0.3)
          .containsKey("max_depth");
      // the trials are child runs of the search's run, one per grid point, each with its validation
      // AUC
      MlflowClient client = new MlflowClient(server.uri().toString());
      String experiment = client.getExperimentByName("kiln").orElseThrow().getExperimentId();
      List<RunInfo> trials =
          new java.util.ArrayList<>(
              client.searchRuns(
                  List.of(experiment), "tags.mlflow.parentRunId = '" + searchRun + "'"));
      trials.sort(java.util.Comparator.comparing(RunInfo::getRunName));
      assertThat(trials).extracting(RunInfo::getRunName).containsExactly("trial 1", "trial 2");
      String bestDepth = null;
      double bestScore = Double.NEGATIVE_INFINITY;
      List<String> depths = new java.util.ArrayList<>();
      for (RunInfo trial : trials) {
        Run stored = client.getRun(trial.getRunId());
        String depth =
            stored.getData().getParamsList().stream()
                .filter(p -> p.getKey().equals("xgb_max_depth"))
                .findFirst()
                .orElseThrow()
                .getValue();
        double score =
            stored.getData().getMetricsList().stream()
                .filter(m -> m.getKey().equals("validation_auc_roc"))
                .findFirst()
                .orElseThrow()
                .getValue();
        depths.add(depth);
        if (score > bestScore) { // on a tie the earlier trial stays best
          bestScore = score;
          bestDepth = depth;
        }
      }
      assertThat(depths).containsExactly("1", "4");
      // the registered model is the best trial's
      assertThat(String.valueOf(best.training().model().info().hyperparameters().get("max_depth")))
          .isEqualTo(bestDepth);
      assertThat(best.training().validationMetrics().get("auc_roc")).isEqualTo(bestScore);
      TrainConfig wrong =
          base.toBuilder()
              .model("tuned")
              .tuning(new TuningConfig(null, 2, Map.of("max_deep", List.of(1, 4))))
              .build();
      assertThatThrownBy(() -> train(spark, tracking, wrong))
          .isInstanceOf(BadInputException.class)
          .hasMessageContaining("unknown hyperparameter 'max_deep'");
      assertThat(tracking.modelVersions("tuned")).hasSize(1);
    }
  }
}
