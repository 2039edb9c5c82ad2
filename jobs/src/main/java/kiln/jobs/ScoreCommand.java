package kiln.jobs;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.Datasets;
import kiln.core.KilnSettings;
import kiln.inference.ScoreConfig;
import kiln.inference.ScoreJob;
import kiln.inference.ScoreResult;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

@Command(
    name = "score",
    mixinStandardHelpOptions = true,
    description = {
      "Score a table version with a registered model and append the predictions to the output table.",
      "Each prediction carries the model name and version, the input table and version and the scoring time.",
      "--shadow also scores a second model and records how far it agrees, without changing the output."
    })
final class ScoreCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "models:/NAME@ALIAS|models:/NAME/VERSION",
      description = "The model that scores.")
  String model;

  @Option(
      names = "--input",
      required = true,
      paramLabel = "TABLE[@V]",
      description = "The rows to score.")
  String input;

  @Option(
      names = "--output",
      required = true,
      paramLabel = "TABLE",
      description = "The predictions table (Delta).")
  String output;

  @Option(
      names = "--shadow",
      paramLabel = "models:/NAME@ALIAS",
      description = "A model to compare, e.g. models:/NAME@challenger.")
  String shadow;

  @Option(
      names = "--where",
      paramLabel = "SQL",
      description = "Score only the rows matching this Spark SQL condition (e.g. one day).")
  String where;

  @Override
  public Integer call() {
    Console console = json.console(spec);
    ScoreConfig config = ScoreConfig.of(model, input, output, shadow).where(where);
    KilnSettings settings = sparkOptions.settings();
    try (Session session = new Session(settings)) {
      // the input table and version are checked before the tracking server starts
      ScoreConfig pinned =
          new ScoreConfig(
              config.model(),
              new Datasets(session.spark()).resolve(config.data()),
              config.output(),
              config.shadow(),
              config.where());
      ScoreResult result;
      try (Reporting reporting = Reporting.open(settings, console)) {
        result = score(session, reporting, console, pinned, Map.of());
      }
      json.print(spec, result);
    }
    return 0;
  }

  /** Scores in an MLflow run of its own; prints and returns what was written. For the demo too. */
  static ScoreResult score(
      Session session,
      Reporting reporting,
      Console console,
      ScoreConfig config,
      Map<String, String> tags) {
    Map<String, String> allTags = new LinkedHashMap<>(tags);
    allTags.put("kiln.job", "score");
    console.step("scoring " + config.data() + " with " + config.model());
    ScoreResult result =
        reporting.run(
            "score " + config.model(),
            allTags,
            run -> new ScoreJob(session.spark(), reporting.tracking()).run(config, run));
    console.result(
        "Scored "
            + Console.count(result.rows())
            + " rows of "
            + result.input()
            + " with "
            + result.model()
            + " version "
            + result.modelVersion()
            + " into "
            + result.output().table()
            + ", version "
            + result.output().version()
            + " ("
            + Console.seconds(result.elapsed())
            + ", "
            + Console.count((long) result.throughput())
            + " rows/s, "
            + Console.count(result.errorRows())
            + " error rows, partition p50/p99 "
            + String.format(
                Locale.ROOT,
                "%.0f/%.0f ms",
                result.partitionMillisP50(),
                result.partitionMillisP99())
            + ").");
    result
        .shadow()
        .ifPresent(
            s ->
                console.result(
                    "Shadow "
                        + s.model()
                        + " version "
                        + s.version()
                        + ": agrees on "
                        + String.format(Locale.ROOT, "%.2f%%", s.agreement() * 100)
                        + " of rows; absolute difference mean "
                        + String.format(
                            Locale.ROOT,
                            "%.4f, p50 %.4f, p99 %.4f, max %.4f",
                            s.meanAbsoluteDifference(),
                            s.medianAbsoluteDifference(),
                            s.p99AbsoluteDifference(),
                            s.maxAbsoluteDifference())
                        + "."));
    return result;
  }
}
