package kiln.jobs;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.KilnSettings;
import kiln.core.YamlFiles;
import kiln.training.FeatureConfig;
import kiln.training.FeatureJob;
import kiln.training.FeatureResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "features",
    mixinStandardHelpOptions = true,
    description = {
      "Build a new version of a feature table from a version of any table, as its config declares it.",
      "The config gives columns (Spark SQL expressions per row), codes (shared ordinal codes), statistics (aggregates per group",
      "from the train rows of the training period only). Config keys: input, output, columns, key,",
      "trainingPeriod, codes, statistics, where (keep only matching rows, e.g. the scoring period), seed and",
      "split (the split `kiln train` must use too; default 42, 0.7/0.15/0.15). Example:",
      "training/examples/flights-features.yaml."
    })
final class FeaturesCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--config",
      required = true,
      paramLabel = "FILE",
      description = "The feature job (YAML).")
  Path config;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    FeatureConfig features = YamlFiles.read(config, FeatureConfig.class);
    KilnSettings settings = sparkOptions.settings();
    try (Session session = new Session(settings)) {
      // the input table and version are checked before the tracking server starts
      new Datasets(session.spark()).resolve(DatasetRef.parse(features.input()));
      FeatureResult result;
      try (Reporting reporting = Reporting.open(settings, console)) {
        result = build(session, reporting, console, features, Map.of());
      }
      json.print(spec, result);
    }
    return 0;
  }

  /**
   * Builds the features in an MLflow run of its own; prints and returns what was written. For the
   * demo too.
   */
  static FeatureResult build(
      Session session,
      Reporting reporting,
      Console console,
      FeatureConfig config,
      Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.put("kiln.job", "features");
    FeatureResult result =
        reporting.run(
            "features " + config.output(),
            allTags,
            run -> {
              Map<String, String> params = new LinkedHashMap<>();
              params.put("input", config.input());
              params.put("output", config.output());
              params.put("training_period", String.valueOf(config.trainingPeriod()));
              params.put("key", config.key());
              params.put("feature_columns", String.join(",", config.outputColumns()));
              params.put("seed", String.valueOf(config.seed()));
              params.put("split", config.split().describe());
              if (config.where() != null) {
                params.put("where", config.where());
              }
              run.logParams(params);
              console.step("building features from " + config.input());
              FeatureResult done = new FeatureJob(session.spark()).run(config);
              run.logInput(done.input(), "input");
              run.logInput(done.output(), "output");
              run.logMetrics(
                  Map.of(
                      "rows",
                      (double) done.rows(),
                      kiln.core.tracking.TrackedRun.ELAPSED_SECONDS,
                      done.elapsed().toMillis() / 1000.0));
              return done;
            });
    console.result(
        "Built "
            + Console.count(result.rows())
            + " rows of features into "
            + result.output().table()
            + ", version "
            + result.output().version()
            + ", from "
            + result.input()
            + " ("
            + Console.seconds(result.elapsed())
            + ").");
    return result;
  }
}
