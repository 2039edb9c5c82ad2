package kiln.jobs;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.PinnedTable;
import kiln.drift.DriftConfig;
import kiln.drift.DriftInput;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftReport;
import kiln.drift.DriftResult;
import kiln.drift.DriftTracking;
import kiln.drift.FeatureDrift;
import kiln.jobs.llmeval.TextDrift;
import kiln.text.SentenceEmbeddings;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code kiln llm drift}: drift of an LLM job's prompts or outputs between two periods. */
@Command(
    name = "drift",
    mixinStandardHelpOptions = true,
    description = {
      "Compare two periods of an LLM job's inputs or outputs and exit 1 when they drifted.",
      "Each --text column: its sentence embeddings (a domain classifier's AUC, the distance between the",
      "mean embeddings with a permutation p-value, and the periods projected on that line as the plot),",
      "its length in characters and in tokens (the table's recorded <column>_tokens, as an LLM output",
      "table has for prompt and completion; else counted by --tokenizer's GGUF model; else in words,",
      "named <column>_words), its refusal and PII-leak rates; the other columns with the",
      "drift statistics of `kiln drift` (category shifts). An HTML report and an MLflow run."
    },
    footer = {
      "",
      "Exit codes: 0 no drift, 1 drifted, 2 bad usage or input, 3 environment or internal."
    })
final class LlmDriftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--reference",
      required = true,
      paramLabel = "TABLE[@V]",
      description = "The earlier period.")
  String reference;

  @Option(
      names = "--current",
      required = true,
      paramLabel = "TABLE[@V]",
      description = "The later period.")
  String current;

  @Option(
      names = "--reference-where",
      paramLabel = "SQL",
      description = "Compare only these reference rows.")
  String referenceWhere;

  @Option(
      names = "--current-where",
      paramLabel = "SQL",
      description = "Compare only these current rows.")
  String currentWhere;

  @Option(
      names = "--text",
      required = true,
      split = ",",
      paramLabel = "COLUMN[,COLUMN...]",
      description = "The text columns (prompts, completions).")
  List<String> text;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "Drift config (YAML) for the other columns and the derived ones, as for kiln drift.")
  Path config;

  @Option(
      names = "--min-auc",
      paramLabel = "X",
      description =
          "A text column's embeddings drifted when a domain classifier reaches this AUC (and the"
              + " permutation p-value is below 0.05) (default "
              + TextDrift.DEFAULT_MIN_AUC
              + ").")
  Double minAuc;

  @Option(
      names = "--sample",
      paramLabel = "N",
      description = "Texts embedded per side at most (default " + TextDrift.DEFAULT_SAMPLE + ").")
  Integer sample;

  @Option(
      names = "--tokenizer",
      paramLabel = "MODEL.gguf",
      description =
          "Count a text column's tokens with this GGUF model's tokenizer (the job's local engine's"
              + " modelPath; as kiln llm run counts them) when the tables do not record them.")
  String tokenizer;

  @Option(names = "--report", paramLabel = "FILE.html", description = "Write the HTML report here.")
  Path report;

  /**
   * What --json prints; {@code lengthMeasures}: each text column's length feature and what it
   * counts (tokens, recorded or by the tokenizer, or words).
   */
  record Outcome(
      DriftResult result, Path report, String runId, Map<String, String> lengthMeasures) {}

  @Override
  public Integer call() {
    Console console = json.console(spec);
    KilnSettings kiln = sparkOptions.settings();
    DriftConfig file = config == null ? DriftConfig.defaults() : DriftConfig.read(config);
    Path dir = kiln.workdirPath().resolve("drift").toAbsolutePath();
    DriftConfig drift =
        file.withTables(
            file.profiles() != null ? file.profiles() : dir.resolve("profiles").toString(),
            file.history() != null ? file.history() : dir.resolve("history").toString());
    DriftInput referenceInput = new DriftInput(DatasetRef.parse(reference), referenceWhere, null);
    DriftInput currentInput = new DriftInput(DatasetRef.parse(current), currentWhere, null);
    Outcome outcome;
    try (Session session = new Session(kiln)) {
      Datasets datasets = new Datasets(session.spark());
      PinnedTable referenceTable = datasets.pin(referenceInput.dataset());
      PinnedTable currentTable =
          currentInput.dataset().equals(referenceInput.dataset())
              ? referenceTable
              : datasets.pin(currentInput.dataset());
      SentenceEmbeddings.checkColumns(
          referenceTable.rows().schema(), text, "reference " + referenceTable.ref());
      SentenceEmbeddings.checkColumns(
          currentTable.rows().schema(), text, "current " + currentTable.ref());
      TextDrift textDrift =
          new TextDrift(session.spark(), text, null, null, minAuc, sample, tokenizer);
      Map<String, TextDrift.LengthMeasure> measures =
          textDrift.lengthMeasures(referenceTable.rows().schema(), currentTable.rows().schema());
      Map<String, String> measureParams = new java.util.LinkedHashMap<>();
      measures.forEach(
          (column, measure) -> {
            String described = measure.describe(column, tokenizer);
            console.step("length of " + column + ": " + measure.feature(column) + ", " + described);
            measureParams.put("text." + column + ".length", measure.feature(column));
            measureParams.put("text." + column + ".length_measure", described);
          });
      try (Reporting reporting = Reporting.open(kiln, console)) {
        outcome =
            reporting.run(
                "llm drift " + currentTable.ref(),
                Map.of("kiln.job", "llm-drift"),
                run -> {
                  run.logParams(measureParams);
                  DriftResult tabular =
                      new DriftMonitor(session.spark(), drift, console::step)
                          .run(
                              referenceInput,
                              referenceTable,
                              currentInput,
                              currentTable,
                              textDrift.derivation(measures),
                              textDrift.derivation(measures));
                  Dataset<Row> referenceRows = where(referenceTable.rows(), referenceWhere);
                  Dataset<Row> currentRows = where(currentTable.rows(), currentWhere);
                  List<FeatureDrift> embedded = new ArrayList<>();
                  for (String column : text) {
                    console.step("embedding drift of " + column);
                    embedded.add(textDrift.embeddingDrift(referenceRows, currentRows, column));
                  }
                  DriftResult result = TextDrift.merge(tabular, embedded);
                  Path html =
                      report != null
                          ? report
                          : kiln.workdirPath().resolve("drift/reports/" + run.id() + ".html");
                  DriftReport.write(result, html);
                  DriftTracking.report(run, result, html);
                  return new Outcome(result, html, run.id(), measureParams);
                });
      }
    }
    DriftCommand.print(console, outcome.result());
    console.result("Report: " + outcome.report().toAbsolutePath());
    json.print(spec, outcome);
    if (outcome.result().drifted()) {
      throw Errors.checkFailed(
          "the texts drifted: " + outcome.result().summary(),
          "see the report "
              + outcome.report().toAbsolutePath()
              + "; check what changed upstream of the prompts (or in the model), or raise --min-auc");
    }
    return 0;
  }

  private static Dataset<Row> where(Dataset<Row> rows, String where) {
    return where == null ? rows : rows.where(where);
  }
}
