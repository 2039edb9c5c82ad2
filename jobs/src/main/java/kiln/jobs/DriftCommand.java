package kiln.jobs;

import java.nio.file.Path;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.KilnSettings;
import kiln.core.PinnedTable;
import kiln.core.models.ModelUri;
import kiln.drift.ChunkValue;
import kiln.drift.Chunking;
import kiln.drift.Derivation;
import kiln.drift.DriftConfig;
import kiln.drift.DriftHistory;
import kiln.drift.DriftInput;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftReport;
import kiln.drift.DriftResult;
import kiln.drift.DriftTracking;
import kiln.drift.FeatureDrift;
import kiln.drift.MultivariateDrift;
import kiln.drift.PerformanceEstimate;
import kiln.jobs.modeldrift.ModelDrift;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code kiln drift}: compares a current dataset version with a reference and exits 1 when the
 * dataset drifted (the retraining trigger for schedulers). Its {@code --config} is the drift
 * config.
 */
@Command(
    name = "drift",
    mixinStandardHelpOptions = true,
    description = {
      "Compare a current dataset version with a reference, column by column, and exit 1 when it drifted.",
      "Per-column drift statistics (PSI, KS, Wasserstein, Jensen-Shannon, Hellinger, chi-squared, null and",
      "out-of-range rates), a verdict per column and for the dataset, an HTML report, a drift history table",
      "and an MLflow run."
    },
    footer = {
      "",
      "Exit codes: 0 no drift, 1 the dataset drifted, 2 bad usage or input that cannot be compared,",
      "3 an environment or internal failure."
    })
final class DriftCommand implements Callable<Integer> {
  @Spec CommandSpec spec;
  @Mixin SparkOptions sparkOptions;
  @Mixin JsonOption json;

  @Option(
      names = "--reference",
      paramLabel = "TABLE[@V]",
      description =
          "The reference side (e.g. training data). With --model it defaults to the model's test split.")
  String reference;

  @Option(
      names = "--current",
      required = true,
      paramLabel = "TABLE[@V]",
      description = "The current side.")
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
      names = "--config",
      paramLabel = "FILE",
      description =
          "Drift config (YAML): features, exclude, categorical, prediction, label, thresholds, statistics, ...")
  Path config;

  @Option(names = "--report", paramLabel = "FILE.html", description = "Write the HTML report here.")
  Path report;

  @Option(
      names = "--prediction",
      paramLabel = "COLUMN",
      description = "A model's prediction column (prediction drift).")
  String prediction;

  @Option(names = "--label", paramLabel = "COLUMN", description = "The label column (label drift).")
  String label;

  @Option(
      names = "--model",
      paramLabel = "models:/NAME@ALIAS|models:/NAME/VERSION",
      description = {
        "Drift as this registered model sees it: its features, its scores (prediction drift), its label (label",
        "drift) and, where labels exist, its primary metric against its test metric (performance drift). Both",
        "sides are scored by the model; the reference defaults to the model's test split."
      })
  String model;

  @Option(
      names = "--labels",
      paramLabel = "TABLE[@V]",
      description =
          "Labels that arrived after the predictions (with --model): joined to the current rows by --key.")
  String labels;

  @Option(
      names = "--key",
      paramLabel = "COLUMN[,COLUMN...]",
      split = ",",
      description = "The columns that join --labels to the current rows.")
  java.util.List<String> key;

  @Option(names = "--no-history", description = "Do not append to the drift history table.")
  boolean noHistory;

  @Option(
      names = "--chunk",
      paramLabel = "day|week|month|ROWS|count:N",
      description = {
        "Also compare the current side chunk by chunk: by period of its date or timestamp column, by ROWS",
        "rows per chunk (in time order when there is a time column) or as N chunks. Each chunk's columns,",
        "multivariate drift and estimated performance are reported and plotted over the chunks; a chunk",
        "needs at least 50 rows."
      })
  String chunk;

  @Option(
      names = "--estimate",
      description = {
        "With --model: estimate its performance without labels per chunk, alerting when an estimate",
        "leaves the band of the reference chunks' realized values; the realized values are shown beside",
        "where labels exist. A classifier: ROC AUC, accuracy, precision, recall, F1 (CBPE, scores",
        "calibrated on the labelled reference). A regressor: MAE, MAPE, MSE, RMSE, MSLE, RMSLE (direct loss",
        "estimation: a model of each row's loss fitted on the labelled reference)."
      })
  boolean estimate;

  @Option(
      names = "--estimate-metrics",
      paramLabel = "METRIC[,METRIC...]",
      split = ",",
      description = {
        "The metrics --estimate reports (implies --estimate): roc_auc, accuracy, precision, recall, f1",
        "for a classifier; mae, mape, mse, rmse, msle, rmsle for a regressor. Default: all (MSLE and RMSLE",
        "only when the reference's labels and predictions are at least 0)."
      })
  java.util.List<String> estimateMetrics;

  /**
   * What one drift run left behind (and what --json prints); historyVersion is -1 with
   * --no-history.
   */
  record Outcome(DriftResult result, Path report, long historyVersion, String runId) {}

  @Override
  public Integer call() {
    Console console = json.console(spec);
    if (model == null && reference == null) {
      throw Errors.badInput(
          "no reference side: --reference is missing",
          "pass --reference TABLE@VERSION, or --model models:/NAME@ALIAS to compare with the model's test split");
    }
    if (model == null && (labels != null || key != null)) {
      throw Errors.badInput(
          "--labels and --key measure a model's performance and need --model",
          "add --model models:/NAME@ALIAS, or leave --labels and --key out");
    }
    if (labels != null && (key == null || key.isEmpty())) {
      throw Errors.badInput(
          "--labels "
              + labels
              + " needs --key: the columns that join the labels to the current rows",
          "add --key COLUMN[,COLUMN...]");
    }
    if ((estimate || estimateMetrics != null) && model == null) {
      throw Errors.badInput(
          "--estimate estimates a model's performance and needs --model",
          "add --model models:/NAME@ALIAS, or leave --estimate out");
    }
    Chunking chunking = chunk == null ? null : Chunking.parse(chunk);
    ModelUri modelUri = model == null ? null : ModelUri.parse(model);
    DriftInput referenceInput =
        reference == null
            ? null
            : new DriftInput(DatasetRef.parse(reference), referenceWhere, null);
    DriftInput currentInput = new DriftInput(DatasetRef.parse(current), currentWhere, null);
    ModelDrift.LateLabels lateLabels =
        labels == null ? null : new ModelDrift.LateLabels(DatasetRef.parse(labels), key);
    KilnSettings kiln = sparkOptions.settings();
    DriftConfig drift = driftConfig(kiln);
    try (Session session = new Session(kiln)) {
      // the tables and versions are checked before the tracking server starts, and pinned once for
      // the job
      Datasets datasets = new Datasets(session.spark());
      PinnedTable referenceTable =
          referenceInput == null ? null : datasets.pin(referenceInput.dataset());
      PinnedTable currentTable =
          referenceTable != null && currentInput.dataset().equals(referenceInput.dataset())
              ? referenceTable
              : datasets.pin(currentInput.dataset());
      PinnedTable labelsTable = lateLabels == null ? null : datasets.pin(lateLabels.table());
      Tables tables =
          new Tables(
              referenceInput, referenceTable, currentInput, currentTable, lateLabels, labelsTable);
      Outcome outcome;
      try (Reporting reporting = Reporting.open(kiln, console)) {
        outcome = drift(session, reporting, console, kiln, drift, modelUri, tables, chunking);
      }
      print(console, outcome.result());
      console.result("Report: " + outcome.report().toAbsolutePath());
      if (outcome.historyVersion() >= 0) {
        console.result(
            "History: "
                + drift.history()
                + " version "
                + outcome.historyVersion()
                + " (run "
                + outcome.runId()
                + ")");
      }
      json.print(spec, outcome);
      if (outcome.result().drifted()) {
        throw Errors.checkFailed(
            "the dataset drifted: " + outcome.result().summary(),
            "see the report "
                + outcome.report().toAbsolutePath()
                + "; retrain on recent data, or widen the thresholds"
                + " in the drift config if they are too strict");
      }
      return 0;
    }
  }

  /** The sides as given and their pinned tables (reference and labels null when not given). */
  private record Tables(
      DriftInput reference,
      PinnedTable referenceTable,
      DriftInput current,
      PinnedTable currentTable,
      ModelDrift.LateLabels labels,
      PinnedTable labelsTable) {}

  private Outcome drift(
      Session session,
      Reporting reporting,
      Console console,
      KilnSettings kiln,
      DriftConfig drift,
      ModelUri modelUri,
      Tables t,
      Chunking chunking) {
    return reporting.run(
        "drift " + t.currentTable().ref(),
        Map.of("kiln.job", "drift"),
        run -> {
          DriftResult result;
          if (modelUri == null) {
            result =
                new DriftMonitor(session.spark(), drift, console::step, chunking, null)
                    .run(
                        t.reference(),
                        t.referenceTable(),
                        t.current(),
                        t.currentTable(),
                        Derivation.NONE,
                        Derivation.NONE);
          } else {
            ModelDrift.Result measured =
                new ModelDrift(
                        session.spark(),
                        reporting.tracking(),
                        drift,
                        console::step,
                        chunking,
                        estimate,
                        estimateMetrics)
                    .run(
                        modelUri,
                        t.reference(),
                        t.referenceTable(),
                        t.current(),
                        t.currentTable(),
                        t.labels(),
                        t.labelsTable());
            run.setTags(
                Map.of(
                    "kiln.model",
                    measured.model().name(),
                    "kiln.model_version",
                    measured.model().version()));
            result = measured.drift();
          }
          Path html =
              report != null
                  ? report
                  : kiln.workdirPath().resolve("drift/reports/" + run.id() + ".html");
          DriftReport.write(result, html);
          DriftTracking.report(run, result, html);
          long version =
              noHistory
                  ? -1
                  : DriftHistory.append(
                      session.spark(), drift.history(), result, run.id(), Instant.now());
          return new Outcome(result, html, version, run.id());
        });
  }

  /**
   * The drift config: command-line flags over the file over the defaults; tables default under the
   * work dir.
   */
  private DriftConfig driftConfig(KilnSettings kiln) {
    DriftConfig file = config == null ? DriftConfig.defaults() : DriftConfig.read(config);
    DriftConfig withColumns =
        file.withColumns(
            file.features(),
            prediction != null ? prediction : file.prediction(),
            label != null ? label : file.label());
    Path drift = kiln.workdirPath().resolve("drift").toAbsolutePath();
    return withColumns.withTables(
        file.profiles() != null ? file.profiles() : drift.resolve("profiles").toString(),
        file.history() != null ? file.history() : drift.resolve("history").toString());
  }

  static void print(Console console, DriftResult result) {
    console.result(
        "Drift of "
            + result.current().label()
            + " ("
            + Console.count(result.currentRows())
            + " rows) against "
            + result.reference().label()
            + " ("
            + Console.count(result.referenceRows())
            + " rows)"
            + (result.referenceProfileReused() ? ", reference profile reused" : ""));
    console.result(
        String.format(
            Locale.ROOT,
            "  %-24s %-10s %-18s %10s %10s  %s",
            "column",
            "role",
            "verdict",
            "psi",
            "p-value",
            "why"));
    for (FeatureDrift f : result.features()) {
      Double p =
          f.statistics().containsKey("ks_p_value")
              ? f.statistics().get("ks_p_value")
              : f.statistics().get("chi_squared_p_value");
      console.result(
          String.format(
              Locale.ROOT,
              "  %-24s %-10s %-18s %10s %10s  %s",
              f.name(),
              f.role().toString().toLowerCase(Locale.ROOT),
              f.verdict(),
              number(f.statistics().get("psi")),
              number(p),
              f.reasons().isEmpty() ? "" : f.reasons().get(0)));
    }
    printMonitoring(console, result);
    console.result(result.summary());
  }

  /** Per chunk: the drifted columns, the reconstruction error and the estimated metrics. */
  static void printMonitoring(Console console, DriftResult result) {
    MultivariateDrift m = result.multivariate();
    if (m != null) {
      console.result(
          String.format(
              Locale.ROOT,
              "Multivariate drift (PCA reconstruction error, %d of %d components, %.1f%% of the"
                  + " variance): band %.4f to %.4f",
              m.components(),
              m.columns().size(),
              m.varianceExplained() * 100,
              m.lower(),
              m.upper()));
    } else if (result.multivariateNote() != null) {
      console.result("Multivariate drift not computed: " + result.multivariateNote());
    }
    kiln.drift.DomainClassifierDrift d = result.domainClassifier();
    if (d != null) {
      console.result(
          String.format(
              Locale.ROOT,
              "Multivariate drift (domain classifier: %d-fold cross-validated AUC of reference"
                  + " against each chunk, %d numeric and %d categorical features, at most %d rows"
                  + " per side): drifted above %.2f",
              d.folds(),
              d.numeric().size(),
              d.categorical().size(),
              d.maxRowsPerSide(),
              d.threshold()));
    }
    if (result.chunks().isEmpty() && result.estimated().isEmpty() && m == null && d == null) {
      return;
    }
    StringBuilder header =
        new StringBuilder(String.format(Locale.ROOT, "  %-12s %9s", "chunk", "rows"));
    if (m != null) {
      header.append(String.format(Locale.ROOT, " %14s", "reconstruction"));
    }
    if (d != null) {
      header.append(String.format(Locale.ROOT, " %10s", "domain AUC"));
    }
    for (PerformanceEstimate e : result.estimated()) {
      header.append(String.format(Locale.ROOT, " %20s", e.metric() + " est/real"));
    }
    if (!result.chunks().isEmpty()) {
      header.append("  drifted columns");
    }
    console.result(header.toString());
    java.util.LinkedHashMap<String, Long> chunks = new java.util.LinkedHashMap<>();
    result.chunks().forEach(c -> chunks.put(c.chunk(), c.rows()));
    if (m != null) {
      m.current().forEach(c -> chunks.putIfAbsent(c.chunk(), c.rows()));
    }
    if (d != null) {
      d.current().forEach(c -> chunks.putIfAbsent(c.chunk(), c.rows()));
    }
    result
        .estimated()
        .forEach(e -> e.current().forEach(c -> chunks.putIfAbsent(c.chunk(), c.rows())));
    for (java.util.Map.Entry<String, Long> chunk : chunks.entrySet()) {
      StringBuilder line =
          new StringBuilder(
              String.format(Locale.ROOT, "  %-12s %9d", chunk.getKey(), chunk.getValue()));
      if (m != null) {
        ChunkValue v = find(m.current(), chunk.getKey());
        line.append(
            v == null
                ? String.format(Locale.ROOT, " %14s", "-")
                : String.format(Locale.ROOT, " %13.4f%s", v.value(), v.alert() ? "!" : " "));
      }
      if (d != null) {
        ChunkValue v = find(d.current(), chunk.getKey());
        line.append(
            v == null
                ? String.format(Locale.ROOT, " %10s", "-")
                : String.format(Locale.ROOT, " %9.4f%s", v.value(), v.alert() ? "!" : " "));
      }
      for (PerformanceEstimate e : result.estimated()) {
        ChunkValue v = find(e.current(), chunk.getKey());
        line.append(
            v == null
                ? String.format(Locale.ROOT, " %20s", "-")
                : String.format(
                    Locale.ROOT,
                    " %9.4f%s/%-9s",
                    v.value(),
                    v.alert() ? "!" : " ",
                    Double.isNaN(v.realized())
                        ? "-"
                        : String.format(Locale.ROOT, "%.4f", v.realized())));
      }
      result.chunks().stream()
          .filter(c -> c.chunk().equals(chunk.getKey()))
          .findFirst()
          .ifPresent(
              c ->
                  line.append("  ")
                      .append(
                          String.join(
                              ", ",
                              c.features().stream()
                                  .filter(FeatureDrift::drifted)
                                  .map(FeatureDrift::name)
                                  .toList())));
      console.result(line.toString());
    }
    if (m != null || !result.estimated().isEmpty()) {
      console.result("  (! outside the band of the reference chunks)");
    }
    if (d != null) {
      console.result(
          String.format(Locale.ROOT, "  (domain AUC: ! above %.2f, the threshold)", d.threshold()));
    }
  }

  private static ChunkValue find(java.util.List<ChunkValue> values, String chunk) {
    return values.stream().filter(v -> v.chunk().equals(chunk)).findFirst().orElse(null);
  }

  private static String number(Double value) {
    if (value == null) {
      return "-";
    }
    return Math.abs(value) < 1e-3 && value != 0
        ? String.format(Locale.ROOT, "%.2e", value)
        : String.format(Locale.ROOT, "%.4f", value);
  }
}
