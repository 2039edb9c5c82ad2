package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.GpuProbe;
import kiln.core.KilnSettings;
import kiln.core.YamlFiles;
import kiln.training.RegisteredVersion;
import kiln.training.TrainConfig;
import kiln.training.TrainingJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "train",
    mixinStandardHelpOptions = true,
    description = {
      "Train a classifier or regressor on a feature table version and register it as a new model version.",
      "XGBoost by default, or a logistic regression; text columns are embedded with Spark NLP sentence",
      "embeddings (a text model).",
      "It is evaluated on the test split; the version holds model files, a model card and tags (data and feature",
      "versions, code version, sha256). Config keys: features, model, task, label, featureColumns, key, seed, split,",
      "hyperparameters, numRound, earlyStoppingRounds, device (auto|cpu|cuda), numWorkers, nthread,",
      "threshold, groupColumns, minGroupRows, tuning, algorithm (xgboost|logistic_regression),",
      "text (columns, embeddings, dimension, maxTokens)."
    })
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "The training job (YAML).")
  Path config;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    TrainConfig train = YamlFiles.read(config, TrainConfig.class);
    KilnSettings settings = sparkOptions.settings();
    try (Session session = new Session(settings)) {
      // the feature table and version are checked before the tracking server starts
      new Datasets(session.spark()).resolve(DatasetRef.parse(train.features()));
      RegisteredVersion registered;
      try (Reporting reporting = Reporting.open(settings, console)) {
        registered = train(session, reporting, console, train, Map.of());
      }
      json.print(spec, Trained.of(registered));
    }
    return 0;
  }

  /** What --json prints: the registered version, its run, and what training measured. */
  record Trained(
      String model,
      String version,
      String runId,
      String device,
      DatasetRef features,
      long trainRows,
      long validationRows,
      long testRows,
      int bestIteration,
      Map<String, Double> metrics,
      Map<String, Map<String, Map<String, Double>>> groups,
      Map<String, Double> groupGaps,
      double latencyMillisPer1000Rows,
      String sha256,
      String codeVersion,
      java.time.Duration elapsed) {
    static Trained of(RegisteredVersion registered) {
      var training = registered.training();
      return new Trained(
          registered.version().name(),
          registered.version().version(),
          registered.runId(),
          training.device(),
          training.features(),
          training.trainRows(),
          training.validationRows(),
          training.testRows(),
          training.bestIteration(),
          training.evaluation().metrics(),
          training.evaluation().groups(),
          training.evaluation().gaps(),
          training.latencyMillisPer1000Rows(),
          training.sha256(),
          training.codeVersion(),
          training.elapsed());
    }
  }

  /**
   * Trains and registers in an MLflow run of its own; prints and returns the new version. For the
   * demo too.
   */
  static RegisteredVersion train(
      Session session,
      Reporting reporting,
      Console console,
      TrainConfig config,
      Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.put("kiln.job", "train");
    console.step(
        "training "
            + config.task().name().toLowerCase(Locale.ROOT)
            + " '"
            + config.model()
            + "' on "
            + config.features());
    RegisteredVersion registered =
        reporting.run(
            "train " + config.model(),
            allTags,
            run ->
                new TrainingJob(session.spark(), GpuProbe.system(), new TextEmbeddingsFeaturizer())
                    .run(config, reporting.tracking(), run, session.settings().experiment()));
    Map<String, Double> metrics = registered.training().evaluation().metrics();
    StringBuilder summary = new StringBuilder();
    for (String metric :
        new String[] {
          "auc_roc",
          "auc_pr",
          "log_loss",
          "accuracy",
          "f1",
          "calibration_error",
          "rmse",
          "mae",
          "r2"
        }) {
      if (metrics.containsKey(metric)) {
        summary
            .append(summary.length() == 0 ? "" : ", ")
            .append(metric)
            .append(' ')
            .append(String.format(Locale.ROOT, "%.4f", metrics.get(metric)));
      }
    }
    console.result(
        "Registered "
            + config.model()
            + " version "
            + registered.version().version()
            + " (device "
            + registered.training().device()
            + ", "
            + Console.count(registered.training().testRows())
            + " test rows: "
            + summary
            + "; largest group gap "
            + String.format(Locale.ROOT, "%.4f", registered.training().evaluation().largestGap())
            + ").");
    console.result(
        "Next: kiln models gate --model models:/"
            + config.model()
            + "/"
            + registered.version().version());
    return registered;
  }
}
