package kiln.jobs.modeldrift;

import static org.apache.spark.sql.functions.col;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.LocalFiles;
import kiln.core.PinnedTable;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.ModelUri;
import kiln.core.models.RegisteredModels;
import kiln.core.models.Split;
import kiln.core.models.Task;
import kiln.core.tracking.Tracking;
import kiln.drift.Chunking;
import kiln.drift.Derivation;
import kiln.drift.DriftConfig;
import kiln.drift.DriftInput;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftResult;
import kiln.drift.Estimation;
import kiln.drift.FeatureDrift;
import kiln.drift.Histogram;
import kiln.drift.Role;
import kiln.drift.Thresholds;
import kiln.drift.Verdict;
import kiln.training.Evaluation;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Drift as a registered model sees it: the model's features, its scores (prediction drift), its
 * label (label drift) and, once labels exist, its primary metric against the one it had on its test
 * split (performance drift). The reference defaults to the model's own test split: the feature
 * table version it was trained on, rows of the test part of its split, which the model never
 * fitted.
 */
public final class ModelDrift {
  /**
   * The score column added to both sides: the probability of class 1 for a classifier, the value
   * for a regressor.
   */
  public static final String SCORE = "model_score";

  private static final List<String> MODEL_OUTPUTS =
      List.of(
          "prediction",
          "probability",
          "rawPrediction",
          ModelFiles.FEATURES_VECTOR,
          ModelFiles.SCORE,
          SCORE);
  private static final List<String> PLOTTED_METRICS =
      List.of("auc_roc", "auc_pr", "accuracy", "precision", "recall", "f1");

  /**
   * Labels that arrive after the predictions: a table with the key columns and the model's label
   * column, joined to the current rows by key (at most one label per key is used).
   */
  public record LateLabels(DatasetRef table, List<String> key) {
    public LateLabels {
      Objects.requireNonNull(table, "table is null");
      key = List.copyOf(key);
      if (key.isEmpty()) {
        throw Errors.badInput(
            "labels from " + table + " need the key columns that join them to the predictions",
            "pass --key COLUMN[,COLUMN...]");
      }
    }
  }

  /**
   * The drift result (with the performance row when labels existed) and the model it was measured
   * for.
   */
  public record Result(
      DriftResult drift, Tracking.ModelVersion model, Optional<FeatureDrift> performance) {}

  private final SparkSession spark;
  private final Tracking tracking;
  private final DriftConfig config;
  private final Consumer<String> progress;
  private final Chunking chunking;
  private final boolean estimate;
  private final List<String> estimateMetrics;

  public ModelDrift(
      SparkSession spark, Tracking tracking, DriftConfig config, Consumer<String> progress) {
    this(spark, tracking, config, progress, null, false);
  }

  /**
   * @param chunking how to cut the current side into chunks, or null
   * @param estimate estimate a classifier's performance without labels per chunk (CBPE), its scores
   *     calibrated on the labelled reference (by default the model's test split)
   */
  public ModelDrift(
      SparkSession spark,
      Tracking tracking,
      DriftConfig config,
      Consumer<String> progress,
      Chunking chunking,
      boolean estimate) {
    this(spark, tracking, config, progress, chunking, estimate, null);
  }

  /**
   * @param estimate estimate the model's performance without labels per chunk: a classifier's by
   *     CBPE, a regressor's by direct loss estimation (DLE)
   * @param estimateMetrics the metrics to estimate (null: the method's default); classification
   *     metrics asked of a regressor, or regression metrics of a classifier, are bad input
   */
  public ModelDrift(
      SparkSession spark,
      Tracking tracking,
      DriftConfig config,
      Consumer<String> progress,
      Chunking chunking,
      boolean estimate,
      List<String> estimateMetrics) {
    this.chunking = chunking;
    this.estimate = estimate || estimateMetrics != null;
    this.estimateMetrics =
        estimateMetrics == null
            ? null
            : estimateMetrics.stream().map(m -> m.strip().toLowerCase(Locale.ROOT)).toList();
    this.spark = Objects.requireNonNull(spark, "spark is null");
    this.tracking = Objects.requireNonNull(tracking, "tracking is null");
    this.config = Objects.requireNonNull(config, "config is null");
    this.progress = Objects.requireNonNull(progress, "progress is null");
  }

  /**
   * Compares {@code current} with {@code reference} (null: the model's test split), both scored by
   * the model; {@code labels} (nullable) supplies labels that arrived later.
   */
  public Result run(ModelUri uri, DriftInput reference, DriftInput current, LateLabels labels) {
    Datasets datasets = new Datasets(spark);
    return run(
        uri,
        reference,
        reference == null ? null : datasets.pin(reference.dataset()),
        current,
        datasets.pin(current.dataset()),
        labels,
        labels == null ? null : datasets.pin(labels.table()));
  }

  /**
   * {@link #run(ModelUri, DriftInput, DriftInput, LateLabels)} on tables the caller already pinned
   * (each side's dataset and the labels' table; the reference's and the labels' null when those
   * are): resolves nothing again but the model's own feature table when the reference is its test
   * split.
   */
  public Result run(
      ModelUri uri,
      DriftInput reference,
      PinnedTable givenReferenceTable,
      DriftInput current,
      PinnedTable currentTable,
      LateLabels labels,
      PinnedTable labelsTable) {
    RegisteredModels registry = new RegisteredModels(tracking);
    Tracking.ModelVersion version = registry.resolve(uri);
    Path directory = temporaryDirectory();
    try {
      progress.accept("downloading " + version.name() + " version " + version.version());
      ModelFiles model = registry.download(version, directory);
      ModelInfo info = model.info();
      // checked before any data is read: classification metrics asked of a regressor (or the
      // reverse) are bad input
      Estimation estimation =
          !estimate
              ? null
              : info.task() == Task.REGRESSOR
                  ? Estimation.regressor(SCORE, info.label(), estimateMetrics)
                  : new Estimation(SCORE, info.label(), info.threshold(), false, estimateMetrics);
      String modelId =
          "model "
              + version.name()
              + "/"
              + version.version()
              + " "
              + version.tags().getOrDefault("kiln.model_sha256", "");
      Derivation scoring = new Derivation(modelId.strip(), rows -> score(model, rows));

      DriftInput referenceSide = reference;
      Derivation referenceDerivation = scoring;
      if (reference == null) {
        DatasetRef training = DatasetRef.atVersion(info.featureTable(), info.featureVersion());
        referenceSide =
            DriftInput.of(training)
                .labelled(
                    training
                        + " (test split of "
                        + version.name()
                        + " v"
                        + version.version()
                        + ")");
        referenceDerivation =
            new Derivation(
                    "test split key="
                        + info.key()
                        + " seed="
                        + info.seed()
                        + " split="
                        + info.split(),
                    rows -> Split.test(rows, info.key(), info.seed(), info.split()))
                .then(scoring);
      }
      Derivation currentDerivation =
          labels == null ? scoring : scoring.then(join(labels, labelsTable, info));

      // each table resolved once: the schema check, both profiles and the performance read that
      // version
      PinnedTable referenceTable =
          reference == null
              ? new Datasets(spark).pin(referenceSide.dataset())
              : givenReferenceTable;
      List<String> currentColumns =
          Arrays.asList(currentDerivation.apply(currentTable.rows()).columns());
      boolean labelled = currentColumns.contains(info.label());
      DriftConfig modelConfig =
          config.withColumns(
              config.features() != null ? config.features() : info.featureColumns(),
              SCORE,
              labelled ? info.label() : null);
      DriftResult drift =
          new DriftMonitor(spark, modelConfig, progress, chunking, estimation)
              .run(
                  referenceSide,
                  referenceTable,
                  current,
                  currentTable,
                  referenceDerivation,
                  currentDerivation);
      if (!labelled) {
        return new Result(drift, version, Optional.empty());
      }
      FeatureDrift performance =
          performance(info, currentTable, drift.current(), currentDerivation);
      return new Result(withPerformance(drift, performance), version, Optional.of(performance));
    } finally {
      try {
        LocalFiles.deleteTree(directory);
      } catch (IOException | RuntimeException e) {
        // a temporary directory left behind is harmless
      }
    }
  }

  /**
   * The rows with the model's score as {@value #SCORE}; earlier model outputs (e.g. of `kiln
   * score`) are replaced.
   */
  static Dataset<Row> score(ModelFiles model, Dataset<Row> rows) {
    Dataset<Row> clean = rows.drop(MODEL_OUTPUTS.toArray(new String[0]));
    String[] keep = clean.columns();
    List<org.apache.spark.sql.Column> out = new ArrayList<>();
    for (String column : keep) {
      out.add(col(column));
    }
    out.add(col(ModelFiles.SCORE).as(SCORE));
    return model.score(clean).select(out.toArray(new org.apache.spark.sql.Column[0]));
  }

  /**
   * Joins labels that arrived later by key; the labels table's label replaces one the rows may
   * have.
   */
  private Derivation join(LateLabels labels, PinnedTable labelTable, ModelInfo info) {
    DatasetRef pinned = labelTable.ref();
    Dataset<Row> table = labelTable.rows();
    List<String> needed = new ArrayList<>(labels.key());
    needed.add(info.label());
    List<String> missing = new ArrayList<>(needed);
    missing.removeAll(Arrays.asList(table.columns()));
    if (!missing.isEmpty()) {
      throw Errors.missingColumns(
          "the labels table " + pinned, missing, Arrays.asList(table.columns()));
    }
    Dataset<Row> oneLabelPerKey =
        table
            .select(
                needed.stream()
                    .map(c -> col("`" + c + "`"))
                    .toArray(org.apache.spark.sql.Column[]::new))
            .dropDuplicates(labels.key().toArray(new String[0]));
    scala.collection.Seq<String> key =
        scala.collection.JavaConverters.asScalaBuffer(labels.key()).toSeq();
    return new Derivation(
        "labels " + pinned + " by " + String.join(",", labels.key()),
        rows -> {
          List<String> rowMissing = new ArrayList<>(labels.key());
          rowMissing.removeAll(Arrays.asList(rows.columns()));
          if (!rowMissing.isEmpty()) {
            throw Errors.missingColumns(
                "the current data (to join labels by key)",
                rowMissing,
                Arrays.asList(rows.columns()));
          }
          return rows.drop(info.label()).join(oneLabelPerKey, key, "left");
        });
  }

  /** The model's primary metric on the labelled current rows against its test metric. */
  private FeatureDrift performance(
      ModelInfo info, PinnedTable currentTable, DriftInput current, Derivation derivation) {
    Task task = info.task();
    String metric = task.primaryMetric();
    Thresholds thresholds = config.thresholds();
    progress.accept(
        "performance: " + metric + " on the labelled current rows against the test split");
    Dataset<Row> rows = currentTable.rows();
    if (current.where() != null) {
      rows = rows.where(current.where());
    }
    Dataset<Row> labelled =
        derivation
            .apply(rows)
            .where(col(info.label()).isNotNull())
            .withColumn(Evaluation.SCORE, col(SCORE))
            .cache();
    try {
      long count = labelled.count();
      Map<String, Double> statistics = new LinkedHashMap<>();
      statistics.put("labelled_rows", (double) count);
      Double test = info.metrics().get(metric);
      statistics.put("test", test == null ? Double.NaN : test);
      List<String> reasons = new ArrayList<>();
      Map<String, Double> currentMetrics = Map.of();
      Verdict verdict;
      double severity = 0;
      if (count < Thresholds.MIN_LABELLED_ROWS) {
        verdict = Verdict.NO_DATA;
        reasons.add(
            "only "
                + count
                + " current rows have labels; performance is decided from "
                + Thresholds.MIN_LABELLED_ROWS
                + " on");
      } else if (task == Task.CLASSIFIER
          && labelled.select(info.label()).distinct().limit(2).count() < 2) {
        verdict = Verdict.NO_DATA;
        reasons.add(
            "the labelled current rows hold a single class, so " + metric + " is undefined");
      } else if (test == null || test.isNaN()) {
        verdict = Verdict.NO_DATA;
        reasons.add("the model has no test " + metric + " in its kiln-model.json to compare with");
      } else {
        currentMetrics =
            Evaluation.evaluate(labelled, task, info.label(), info.threshold(), List.of(), 0)
                .metrics();
        double now = currentMetrics.getOrDefault(metric, Double.NaN);
        double worse = task.higherIsBetter() ? test - now : now - test;
        double relative = worse / Math.max(Math.abs(test), 1e-12);
        statistics.put("current", now);
        statistics.put("relative_degradation", relative);
        String text =
            String.format(
                Locale.ROOT,
                "%s %.4f on %,d labelled rows vs %.4f on the test split (%s%.1f%%)",
                metric,
                now,
                count,
                test,
                relative >= 0 ? "worse by " : "better by ",
                Math.abs(relative) * 100);
        if (relative > thresholds.performance()) {
          verdict = Verdict.DRIFTED;
          severity = relative / thresholds.performance();
          reasons.add(
              text + String.format(Locale.ROOT, " > %.1f%%", thresholds.performance() * 100));
        } else {
          verdict = Verdict.STABLE;
          reasons.add(text);
        }
        currentMetrics.forEach(
            (name, value) -> {
              if (!name.equals(metric)) {
                statistics.put("current_" + name, value);
              }
            });
      }
      Histogram plot =
          task == Task.CLASSIFIER && !currentMetrics.isEmpty()
              ? metricsPlot(info.metrics(), currentMetrics)
              : Histogram.empty();
      return new FeatureDrift(
          metric,
          Role.PERFORMANCE,
          "metric",
          verdict,
          reasons,
          statistics,
          severity,
          plot,
          List.of(),
          List.of(),
          true);
    } finally {
      labelled.unpersist();
    }
  }

  /** Test split against current for the metrics in [0, 1], drawn like a histogram in the report. */
  private static Histogram metricsPlot(Map<String, Double> test, Map<String, Double> current) {
    List<String> names = new ArrayList<>();
    List<Double> before = new ArrayList<>();
    List<Double> now = new ArrayList<>();
    for (String name : PLOTTED_METRICS) {
      Double a = test.get(name);
      Double b = current.get(name);
      if (a != null && b != null && !a.isNaN() && !b.isNaN()) {
        names.add(name);
        before.add(a);
        now.add(b);
      }
    }
    return names.isEmpty() ? Histogram.empty() : new Histogram(names, before, now);
  }

  /** The drift result with the performance row; performance drift makes the dataset drifted. */
  static DriftResult withPerformance(DriftResult drift, FeatureDrift performance) {
    List<FeatureDrift> features = new ArrayList<>();
    if (performance.drifted()) {
      features.add(performance);
      features.addAll(drift.features());
    } else {
      features.addAll(drift.features());
      features.add(performance);
    }
    boolean drifted = drift.drifted() || performance.drifted();
    String summary =
        drift.summary()
            + "; performance "
            + (performance.verdict() == Verdict.NO_DATA
                ? "not decided"
                : performance.drifted() ? "DRIFTED" : "stable")
            + " ("
            + performance.reasons().get(0)
            + ")"
            + (drifted && !drift.drifted() ? ": DRIFTED" : "");
    return new DriftResult(
        drift.reference(),
        drift.current(),
        drift.referenceRows(),
        drift.currentRows(),
        features,
        drift.driftedShare(),
        drifted,
        summary,
        drift.thresholds(),
        drift.referenceProfileReused(),
        drift.chunking(),
        drift.chunks(),
        drift.multivariate(),
        drift.estimated(),
        drift.multivariateNote(),
        drift.domainClassifier());
  }

  private static Path temporaryDirectory() {
    try {
      return Files.createTempDirectory("kiln-model-drift-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
