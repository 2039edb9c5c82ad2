package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
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
      "Train an XGBoost classifier or regressor on a feature table version, evaluate it on the test split,",
      "and register it as a new model version (model files, model card, tags: data and feature versions,",
      "code version, sha256). Config keys: features, model, task, label, featureColumns, key, seed, split,",
      "hyperparameters, numRound, earlyStoppingRounds, device (auto|cpu|cuda), numWorkers, nthread,",
      "threshold, groupColumns, minGroupRows."
    })
final class TrainCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions.JobSparkOptions sparkOptions;

  @Option(names = "--config", required = true, paramLabel = "FILE", description = "The training job (YAML).")
  Path config;

  @Override
  public Integer call() {
    Console console = new Console(spec.commandLine().getOut(), spec.commandLine().getErr());
    TrainConfig train = YamlFiles.read(config, TrainConfig.class);
    KilnSettings settings = sparkOptions.settings();
    try (Session session = new Session(settings); Reporting reporting = Reporting.open(settings, console)) {
      train(session, reporting, console, train, Map.of());
    }
    return 0;
  }

  /** Trains and registers in an MLflow run of its own; prints and returns the new version. For the demo too. */
  static RegisteredVersion train(Session session, Reporting reporting, Console console, TrainConfig config,
      Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.put("kiln.job", "train");
    console.step("training " + config.task().name().toLowerCase(Locale.ROOT) + " '" + config.model() + "' on "
        + config.features());
    RegisteredVersion registered = reporting.run("train " + config.model(), allTags,
        run -> new TrainingJob(session.spark()).run(config, reporting.tracking(), run, session.settings().experiment()));
    Map<String, Double> metrics = registered.training().evaluation().metrics();
    StringBuilder summary = new StringBuilder();
    for (String metric : new String[] {"auc_roc", "auc_pr", "log_loss", "accuracy", "f1", "calibration_error", "rmse", "mae",
        "r2"}) {
      if (metrics.containsKey(metric)) {
        summary.append(summary.length() == 0 ? "" : ", ").append(metric).append(' ')
            .append(String.format(Locale.ROOT, "%.4f", metrics.get(metric)));
      }
    }
    console.result("Registered " + config.model() + " version " + registered.version().version() + " (device "
        + registered.training().device() + ", " + Console.count(registered.training().testRows()) + " test rows: " + summary
        + "; largest group gap " + String.format(Locale.ROOT, "%.4f", registered.training().evaluation().largestGap())
        + ").");
    console.result("Next: kiln models gate --name " + config.model() + " --version " + registered.version().version());
    return registered;
  }
}
