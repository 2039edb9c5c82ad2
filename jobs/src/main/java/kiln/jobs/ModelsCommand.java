package kiln.jobs;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.models.ModelUri;
import kiln.training.GateCriteria;
import kiln.training.GateResult;
import kiln.training.ModelGate;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "models",
    mixinStandardHelpOptions = true,
    description = "Promote registered models through the gate, or roll the champion back.",
    subcommands = {
      ModelsCommand.Gate.class,
      ModelsCommand.Rollback.class,
      CommandLine.HelpCommand.class
    })
final class ModelsCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(
      name = "gate",
      mixinStandardHelpOptions = true,
      description = {
        "Compare a model version with the champion on the candidate's test rows, and promote it on a pass.",
        "On a pass the candidate becomes champion and the old champion previous. Exit 1, with each failed",
        "criterion, on a fail. A first model (no champion yet) passes on the absolute thresholds."
      })
  static final class Gate implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--model",
        required = true,
        paramLabel = "models:/NAME/VERSION",
        description = "The candidate version.")
    String model;

    @Option(
        names = "--min-improvement",
        paramLabel = "X",
        description =
            "Primary metric (AUC-ROC, or RMSE for regressors) better than the champion's by at least X (default "
                + GateCriteria.DEFAULT_MIN_IMPROVEMENT
                + ").")
    Double minImprovement;

    @Option(
        names = "--max-group-gap",
        paramLabel = "X",
        description =
            "Largest gap of the primary metric between groups at most X (default "
                + GateCriteria.DEFAULT_MAX_GROUP_GAP
                + ").")
    Double maxGroupGap;

    @Option(
        names = "--max-latency-ms",
        paramLabel = "MS",
        description =
            "Scoring latency per 1000 rows at most MS (default "
                + GateCriteria.DEFAULT_MAX_LATENCY
                + ").")
    Double maxLatency;

    @Option(
        names = "--min-auc-roc",
        paramLabel = "X",
        description =
            "A first classifier needs at least this AUC-ROC (default "
                + GateCriteria.DEFAULT_MIN_AUC_ROC
                + ").")
    Double minAucRoc;

    @Option(
        names = "--max-rmse",
        paramLabel = "X",
        description = "A first regressor needs at most this RMSE (default: no limit).")
    Double maxRmse;

    @Override
    public Integer call() {
      Console console = json.console(spec);
      ModelUri candidate = ModelUri.parse(model);
      if (candidate.version() == null) {
        throw Errors.badInput(
            "--model " + model + " names an alias; the gate judges one version",
            "write models:/"
                + candidate.name()
                + "/VERSION, e.g. the version `kiln train` registered");
      }
      String name = candidate.name();
      String version = candidate.version();
      GateCriteria criteria =
          GateCriteria.builder()
              .minImprovement(minImprovement)
              .maxGroupGap(maxGroupGap)
              .maxLatencyMillisPer1000Rows(maxLatency)
              .minAucRoc(minAucRoc)
              .maxRmse(maxRmse)
              .build();
      KilnSettings settings = sparkOptions.settings();
      GateResult result;
      try (Session session = new Session(settings);
          Reporting reporting = Reporting.open(settings, console)) {
        result = gate(session, reporting, console, name, version, criteria, Map.of());
      }
      json.print(spec, result);
      if (!result.promoted()) {
        StringBuilder failed = new StringBuilder();
        result
            .failed()
            .forEach(c -> failed.append("\n  - ").append(c.name()).append(": ").append(c.detail()));
        throw Errors.checkFailed(
            "the gate refused version " + version + " of " + name + "; failed criteria:" + failed,
            "the champion stays "
                + (result.champion() == null ? "unset" : "version " + result.champion())
                + "; train a better model, or change the criteria if they are wrong");
      }
      return 0;
    }
  }

  /**
   * Runs the gate in an MLflow run of its own and prints each criterion; promotes on a pass. For
   * the demo too.
   */
  static GateResult gate(
      Session session,
      Reporting reporting,
      Console console,
      String name,
      String version,
      GateCriteria criteria,
      Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.put("kiln.job", "gate");
    GateResult result =
        reporting.run(
            "gate " + name + " " + version,
            allTags,
            run ->
                new ModelGate(session.spark(), reporting.tracking())
                    .gate(name, version, criteria, run));
    for (GateResult.Criterion criterion : result.criteria()) {
      console.result(
          (criterion.passed() ? "PASS " : "FAIL ") + criterion.name() + ": " + criterion.detail());
    }
    if (result.promoted()) {
      console.result(
          "Version "
              + version
              + " of "
              + name
              + " is now champion"
              + (result.champion() == null
                  ? " (the first)."
                  : "; version " + result.champion() + " is previous."));
    }
    return result;
  }

  @Command(
      name = "rollback",
      mixinStandardHelpOptions = true,
      description = "Point the alias champion back at the previous version.")
  static final class Rollback implements Callable<Integer> {
    @Spec CommandSpec spec;
    @Mixin SparkOptions sparkOptions;
    @Mixin JsonOption json;

    @Option(
        names = "--model",
        required = true,
        paramLabel = "models:/NAME",
        description = "The registered model.")
    String model;

    /** What --json prints: the model and the version that is champion now. */
    record RolledBack(String model, String champion) {}

    @Override
    public Integer call() {
      Console console = json.console(spec);
      String name = registeredModel(model);
      KilnSettings settings = sparkOptions.settings();
      String champion;
      try (Session session = new Session(settings);
          Reporting reporting = Reporting.open(settings, console)) {
        champion = rollback(session, reporting, console, name);
      }
      json.print(spec, new RolledBack(name, champion));
      return 0;
    }
  }

  /** The name in {@code models:/NAME}: a whole registered model, no version or alias. */
  static String registeredModel(String uri) {
    String prefix = "models:/";
    String name = uri.startsWith(prefix) ? uri.substring(prefix.length()) : "";
    if (name.isEmpty() || name.contains("/") || name.contains("@")) {
      throw Errors.badInput(
          "malformed model URI '" + uri + "': rollback takes a whole registered model",
          "write models:/NAME, e.g. models:/flight-delays");
    }
    return name;
  }

  /** Rolls champion back to previous; returns the version that is champion now. */
  static String rollback(Session session, Reporting reporting, Console console, String name) {
    String champion = new ModelGate(session.spark(), reporting.tracking()).rollback(name);
    console.result("Rolled back: version " + champion + " of " + name + " is champion again.");
    return champion;
  }
}
