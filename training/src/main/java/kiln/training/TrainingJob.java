package kiln.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.GpuProbe;
import kiln.core.LocalFiles;
import kiln.core.models.ModelInfo;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import org.apache.spark.sql.SparkSession;

/**
 * {@code kiln train}: trains and evaluates (see {@link Trainer}), then reports to the run, uploads
 * the model files and the model card as the run's artifacts and registers them as a new model
 * version.
 */
public final class TrainingJob {
  /** Tags of every registered version. */
  public static final String TAG_FEATURE_TABLE = "kiln.feature_table";

  public static final String TAG_FEATURE_VERSION = "kiln.feature_version";
  public static final String TAG_DATA_TABLE = "kiln.data_table";
  public static final String TAG_DATA_VERSION = "kiln.data_version";
  public static final String TAG_CODE_VERSION = "kiln.code_version";
  public static final String TAG_MODEL_SHA256 = "kiln.model_sha256";
  public static final String TAG_LABEL = "kiln.label";
  public static final String TAG_TASK = "kiln.task";
  public static final String MODEL_ARTIFACT_PATH = "model";

  private final SparkSession spark;
  private final GpuProbe gpuProbe;
  private final TextFeaturizer textFeaturizer;

  /**
   * @param textFeaturizer embeds a config's text columns; null when the caller has none (text
   *     configs are then refused)
   */
  public TrainingJob(SparkSession spark, GpuProbe gpuProbe, TextFeaturizer textFeaturizer) {
    this.spark = spark;
    this.gpuProbe = gpuProbe;
    this.textFeaturizer = textFeaturizer;
  }

  public TrainingJob(SparkSession spark, GpuProbe gpuProbe) {
    this(spark, gpuProbe, null);
  }

  public TrainingJob(SparkSession spark) {
    this(spark, GpuProbe.system());
  }

  public RegisteredVersion run(TrainConfig config, Tracking tracking, TrackedRun run) {
    return run(config, tracking, run, "kiln");
  }

  /**
   * Trains (or, with {@code tuning}, runs the search with a nested run per trial in {@code
   * experiment}) and registers the model, or the best trial's.
   */
  public RegisteredVersion run(
      TrainConfig config, Tracking tracking, TrackedRun run, String experiment) {
    Path directory;
    try {
      directory = Files.createTempDirectory("kiln-model-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      run.logParams(params(config));
      if (config.algorithm() == Algorithm.XGBOOST) {
        // which device and why, recorded before training; cuda refused is reported by training's
        // own checks, in their order
        try {
          run.logParams(
              Map.of(
                  "device_reason",
                  config.device().decide(spark.sparkContext().getConf(), gpuProbe).reason()));
        } catch (kiln.core.BadInputException e) {
          // refused: training's checks say so
        }
      }
      if (config.tuning() == null) {
        TrainingResult result =
            new Trainer(spark, gpuProbe, textFeaturizer)
                .train(config, directory.resolve(MODEL_ARTIFACT_PATH));
        return register(config.model(), result, tracking, run);
      }
      List<Tuner.Trial> trials =
          new Tuner(new Trainer(spark, gpuProbe, textFeaturizer))
              .tune(config, config.tuning(), tracking, experiment, run, directory);
      Tuner.Trial best = Tuner.best(trials, config.task());
      run.logParams(
          Map.of(
              "tuning_strategy",
              config.tuning().strategy().name().toLowerCase(java.util.Locale.ROOT),
              "tuning_trials",
              String.valueOf(trials.size()),
              "best_trial",
              String.valueOf(best.number()),
              "best_trial_run_id",
              best.runId()));
      best.hyperparameters()
          .forEach((k, v) -> run.logParams(Map.of("best_xgb_" + k, String.valueOf(v))));
      return register(config.model(), best.result(), tracking, run);
    } finally {
      try {
        LocalFiles.deleteTree(directory);
      } catch (IOException | RuntimeException e) {
        // a temporary directory left behind is harmless
      }
    }
  }

  /** Logs a trained model to the run and registers it. */
  public static RegisteredVersion register(
      String name, TrainingResult result, Tracking tracking, TrackedRun run) {
    ModelInfo info = result.model().info();
    run.logParams(Map.of("device", result.device(), "code_version", result.codeVersion()));
    Map<String, Double> metrics = new LinkedHashMap<>(result.metrics());
    result
        .featureImportance()
        .forEach((feature, gain) -> metrics.put("importance_" + feature, gain));
    run.logMetrics(metrics); // one request, not one per feature
    run.logInput(result.features(), "training");
    if (info.dataTable() != null && info.dataVersion() != null) {
      run.logInput(DatasetRef.atVersion(info.dataTable(), info.dataVersion()), "source");
    }
    for (Path file : result.model().files()) {
      run.logArtifact(
          result.model().directory().resolve(file),
          MODEL_ARTIFACT_PATH + "/" + file.toString().replace('\\', '/'));
    }
    Map<String, String> tags = new LinkedHashMap<>();
    tags.put(TAG_FEATURE_TABLE, info.featureTable());
    tags.put(TAG_FEATURE_VERSION, String.valueOf(info.featureVersion()));
    tags.put(TAG_DATA_TABLE, String.valueOf(info.dataTable()));
    tags.put(TAG_DATA_VERSION, String.valueOf(info.dataVersion()));
    tags.put(TAG_CODE_VERSION, result.codeVersion());
    tags.put(TAG_MODEL_SHA256, result.sha256());
    tags.put(TAG_LABEL, info.label());
    tags.put(TAG_TASK, info.task().name().toLowerCase(java.util.Locale.ROOT));
    Tracking.ModelVersion version =
        tracking.registerModel(name, run.artifactUri() + "/" + MODEL_ARTIFACT_PATH, run.id(), tags);
    run.logText(ModelCard.markdown(name, version.version(), result), "model_card.md");
    run.setTags(Map.of("kiln.model", name, "kiln.model_version", version.version()));
    return new RegisteredVersion(result, version, run.id());
  }

  static Map<String, String> params(TrainConfig config) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("features", config.features());
    params.put("model", config.model());
    params.put("task", config.task().name().toLowerCase(java.util.Locale.ROOT));
    params.put("label", config.label());
    params.put("feature_columns", String.join(",", config.featureColumns()));
    params.put("algorithm", config.algorithm().name().toLowerCase(java.util.Locale.ROOT));
    if (config.text() != null) {
      params.put("text_columns", String.join(",", config.text().columns()));
      params.put("text_embeddings", config.text().embeddings());
      if (config.text().maxTokens() != null) {
        params.put("text_max_tokens", String.valueOf(config.text().maxTokens()));
      }
    }
    params.put("split_key", config.key());
    params.put("seed", String.valueOf(config.seed()));
    params.put("split", config.split().describe());
    params.put("num_round", String.valueOf(config.numRound()));
    params.put("early_stopping_rounds", String.valueOf(config.earlyStoppingRounds()));
    params.put("device_requested", config.device().name().toLowerCase(java.util.Locale.ROOT));
    params.put("threshold", String.valueOf(config.threshold()));
    String prefix = config.algorithm() == Algorithm.XGBOOST ? "xgb_" : "lr_";
    config.hyperparameters().forEach((k, v) -> params.put(prefix + k, String.valueOf(v)));
    return params;
  }
}
