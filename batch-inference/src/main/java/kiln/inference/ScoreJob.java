package kiln.inference;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.isnan;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.percentile_approx;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import kiln.core.ColumnSources;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.LocalFiles;
import kiln.core.PinnedTable;
import kiln.core.SparkSessions;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import kiln.core.models.ModelFiles;
import kiln.core.models.RegisteredModels;
import kiln.core.models.Task;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Observation;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code kiln score}: scores a pinned table version with a registered model and appends the
 * predictions, with the model and input versions and the scoring time, as a new version of the
 * output table. Counts and error rows are observed during the write itself (no second pass); a
 * shadow model is compared on the written rows without changing them.
 */
public final class ScoreJob {
  public static final String MODEL_NAME = "model_name";
  public static final String MODEL_VERSION = "model_version";
  public static final String INPUT_TABLE = "input_table";
  public static final String INPUT_VERSION = "input_version";
  public static final String SCORED_AT = "scored_at";
  private static final String PREDICTION = "prediction";
  private static final String PROBABILITY = "probability";

  private final SparkSession spark;
  private final Tracking tracking;

  public ScoreJob(SparkSession spark, Tracking tracking) {
    this.spark = spark;
    this.tracking = tracking;
  }

  public ScoreResult run(ScoreConfig config, TrackedRun run) {
    RegisteredModels registry = new RegisteredModels(tracking);
    Tracking.ModelVersion version = registry.resolve(config.model());
    Tracking.ModelVersion shadowVersion =
        config.shadow() == null ? null : registry.resolve(config.shadow());
    Datasets datasets = new Datasets(spark);
    PinnedTable pinned = datasets.pin(config.data());
    PinnedTable input =
        config.where() == null ? pinned : pinned.withRows(pinned.rows().where(config.where()));
    Path directory = temporaryDirectory();
    try {
      ModelFiles model = registry.download(version, directory.resolve("model"));
      ModelFiles shadow =
          shadowVersion == null
              ? null
              : registry.download(shadowVersion, directory.resolve("shadow"));
      if (shadow != null) {
        // fail before writing anything when the shadow cannot score these rows
        outputs(
            shadow,
            input.rows().limit(0),
            "table " + input + " (for the shadow model " + config.shadow() + ")");
      }
      ScoreResult main =
          score(model, version, input, config.output(), writeKey(config, version, input));
      Optional<ScoreResult.ShadowComparison> comparison =
          shadow == null
              ? Optional.empty()
              : Optional.of(
                  compare(shadow, shadowVersion, datasets.read(main.output()), classifier(model)));
      ScoreResult result =
          new ScoreResult(
              main.model(),
              main.modelVersion(),
              main.input(),
              main.output(),
              main.rows(),
              main.errorRows(),
              main.elapsed(),
              main.partitionMillisP50(),
              main.partitionMillisP99(),
              comparison);
      report(run, config, result);
      return result;
    } finally {
      try {
        LocalFiles.deleteTree(directory);
      } catch (IOException | RuntimeException e) {
        // a temporary directory left behind is harmless
      }
    }
  }

  /**
   * Scores a pinned table version with a loaded model and appends the predictions to {@code
   * output}: one pass, with rows and error rows observed during the write and the write's task
   * times measured.
   */
  public ScoreResult score(
      ModelFiles model, Tracking.ModelVersion version, PinnedTable input, String output) {
    return score(model, version, input, output, null);
  }

  /**
   * The same model version scoring the same rows of the same table version is the same write: a
   * scheduler's retry or re-run of a day appends nothing a second time.
   */
  static String writeKey(ScoreConfig config, Tracking.ModelVersion version, PinnedTable input) {
    return "score:"
        + version.name()
        + "/"
        + version.version()
        + ":"
        + input.ref()
        + (config.where() == null ? "" : ":where=" + config.where());
  }

  private ScoreResult score(
      ModelFiles model,
      Tracking.ModelVersion version,
      PinnedTable input,
      String output,
      String key) {
    Datasets datasets = new Datasets(spark);
    Dataset<Row> scored = predictions(model, input.rows(), version, input.ref());
    // error rows are observed during the write; the row count comes from the Delta commit
    // (numOutputRows):
    // observing both, `bin/kiln-bench score` read 1.106 and 1.108 idle; error rows only, 1.030 and
    // 1.039. Under RAPIDS (25.04) a query with observe fails to plan and the whole write would run
    // on the CPU: there the error rows are counted after the write, from the written version's
    // prediction column alone, by a plan RAPIDS runs (errorRows)
    boolean rapids = SparkSessions.runsRapids(spark);
    Observation observation = new Observation("kiln_score");
    Dataset<Row> observed = rapids ? scored : scored.observe(observation, errorRowsCount());
    TaskTimes tasks = new TaskTimes();
    spark.sparkContext().addSparkListener(tasks);
    long started = System.nanoTime();
    WriteResult written;
    try {
      written =
          datasets.write(
              observed,
              output,
              new WriteOptions(
                  WriteMode.APPEND,
                  key,
                  Map.of(
                      "kiln.model",
                      version.name() + "/" + version.version(),
                      "kiln.input",
                      input.toString())),
              columnSources(model, input.rows(), scored));
      awaitListeners();
    } finally {
      spark.sparkContext().removeSparkListener(tasks);
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - started);
    long total = written.rows();
    long errors;
    if (written.alreadyWritten()) {
      // a write skipped as already done observes nothing
      errors = 0;
    } else if (rapids) {
      errors = errorRows(datasets.read(written.written())).first().getLong(0);
    } else {
      Object counted = observed(observation).get("error_rows");
      errors = counted == null ? 0 : ((Number) counted).longValue();
    }
    return new ScoreResult(
        version.name(),
        version.version(),
        input.ref(),
        written.written(),
        total,
        errors,
        elapsed,
        tasks.percentile(0.5),
        tasks.percentile(0.99),
        Optional.empty());
  }

  /**
   * Where the written columns come from, for lineage: the model's transform hides it (XGBoost
   * builds its result from an RDD, where the plan stops). The input's columns are copied; {@code
   * prediction} and {@code probability} are computed from the model's input columns; the provenance
   * columns are constants and come from no column.
   */
  static ColumnSources columnSources(ModelFiles model, Dataset<Row> rows, Dataset<Row> scored) {
    ColumnSources known = ColumnSources.of(rows);
    List<String> inputColumns = List.of(rows.columns());
    for (String column : scored.columns()) {
      if (column.equals(PREDICTION) || column.equals(PROBABILITY)) {
        known = known.computed(column, model.info().inputColumns());
      } else if (inputColumns.contains(column)) {
        known = known.copied(column);
      }
    }
    return known;
  }

  private static Column errorRowsCount() {
    return sum(when(col(PREDICTION).isNull().or(isnan(col(PREDICTION))), 1).otherwise(0))
        .as("error_rows");
  }

  /**
   * One row, one long: the rows of {@code written} whose prediction is null or NaN (built-in
   * expressions over the prediction column alone, which RAPIDS runs on the GPU).
   */
  public static Dataset<Row> errorRows(Dataset<Row> written) {
    return written.select(count(when(col(PREDICTION).isNull().or(isnan(col(PREDICTION))), 1)));
  }

  /**
   * The output rows: the input, the model's outputs, and where they came from. In a session with
   * the RAPIDS Accelerator, built from {@link #prepared} (a plan RAPIDS runs whole on the GPU) and
   * the model reading its feature columns by name where it can ({@link ModelFiles#scoreColumns});
   * otherwise the model reads its assembled vector, as it always has on a CPU. Both give the same
   * columns in the same order with the same values.
   */
  public static Dataset<Row> predictions(
      ModelFiles model, Dataset<Row> rows, Tracking.ModelVersion version, DatasetRef input) {
    return SparkSessions.runsRapids(rows.sparkSession()) && columnar(model, rows)
        ? columnarPredictions(model, rows, version, input)
        : vectorPredictions(model, rows, version, input);
  }

  /** What the CPU path has always done: the model's outputs, then the provenance columns. */
  static Dataset<Row> vectorPredictions(
      ModelFiles model, Dataset<Row> rows, Tracking.ModelVersion version, DatasetRef input) {
    return outputs(model, rows, "table " + input)
        .withColumn(MODEL_NAME, lit(version.name()))
        .withColumn(MODEL_VERSION, lit(version.version()))
        .withColumn(INPUT_TABLE, lit(input.table()))
        .withColumn(INPUT_VERSION, lit(input.version()))
        .withColumn(SCORED_AT, current_timestamp());
  }

  /**
   * Whether the model's features can be prepared as plain numeric columns: not for a text model
   * (its pipeline embeds the text) nor for a feature that is already a vector.
   */
  static boolean columnar(ModelFiles model, Dataset<Row> rows) {
    return model.plainFeatures(rows.schema());
  }

  /** The name of the {@code index}th prepared feature column (see {@link #prepared}). */
  static String preparedFeature(int index) {
    return ModelFiles.featureColumn(index);
  }

  /**
   * Kiln's pre-processing of the rows to score, before the model: the input's columns (earlier
   * model outputs left out), the provenance columns, and every feature as a double in its own
   * column, a missing value (null) as NaN -- the values ModelFiles.assemble puts in the (dense)
   * vector, which XGBoost reads as missing. Built-in expressions only: under RAPIDS this whole plan
   * runs on the GPU (the Delta scan aside, which RAPIDS 25.04 does not run on Spark 3.5), and it is
   * the plan xgboost4j-spark-gpu's transform reads as GPU columns.
   */
  public static Dataset<Row> prepared(
      ModelFiles model, Dataset<Row> rows, Tracking.ModelVersion version, DatasetRef input) {
    model.requireInputColumns(rows, "table " + input);
    Dataset<Row> clean = clean(rows);
    // as withColumn does on the CPU path: a provenance column the input has already is replaced
    // in place, the others come last
    Map<String, Column> provenance = provenance(version, input);
    List<Column> out = new ArrayList<>();
    for (String column : clean.columns()) {
      out.add(provenance.containsKey(column) ? provenance.get(column) : col(column));
    }
    provenance.forEach(
        (name, value) -> {
          if (!List.of(clean.columns()).contains(name)) {
            out.add(value);
          }
        });
    // the values ModelFiles.assemble puts in the vector, each in its own column
    out.addAll(ModelFiles.featureColumns(model.info().featureColumns()));
    return clean.select(out.toArray(new Column[0]));
  }

  private static Map<String, Column> provenance(Tracking.ModelVersion version, DatasetRef input) {
    Map<String, Column> columns = new LinkedHashMap<>();
    columns.put(MODEL_NAME, lit(version.name()).as(MODEL_NAME));
    columns.put(MODEL_VERSION, lit(version.version()).as(MODEL_VERSION));
    columns.put(INPUT_TABLE, lit(input.table()).as(INPUT_TABLE));
    columns.put(INPUT_VERSION, lit(input.version()).as(INPUT_VERSION));
    columns.put(SCORED_AT, current_timestamp().as(SCORED_AT));
    return columns;
  }

  /**
   * The output rows from {@link #prepared}: the model reads the prepared feature columns (by name
   * under RAPIDS, an XGBoost model's GPU transform; else assembled), then the columns are put in
   * the order (and with the types) of {@link #vectorPredictions}.
   */
  static Dataset<Row> columnarPredictions(
      ModelFiles model, Dataset<Row> rows, Tracking.ModelVersion version, DatasetRef input) {
    Dataset<Row> prepared = prepared(model, rows, version, input);
    List<String> features = ModelFiles.featureColumnNames(model.info().featureColumns().size());
    // by name only where XGBoost's GPU transform reads them (see scoreColumns)
    Dataset<Row> scored =
        model.scoreColumns(prepared, features, SparkSessions.runsRapids(rows.sparkSession()));
    List<String> inputColumns = List.of(clean(rows).columns());
    List<Column> out = new ArrayList<>();
    for (String column : inputColumns) {
      out.add(col(column));
    }
    out.add(col(PREDICTION).cast("double").as(PREDICTION));
    if (classifier(model)) {
      out.add(col(ModelFiles.SCORE).as(PROBABILITY));
    }
    for (String column :
        List.of(MODEL_NAME, MODEL_VERSION, INPUT_TABLE, INPUT_VERSION, SCORED_AT)) {
      if (!inputColumns.contains(column)) {
        out.add(col(column));
      }
    }
    return scored.select(out.toArray(new Column[0]));
  }

  /**
   * The rows with {@code prediction} and, for a classifier, {@code probability} (of class 1) as
   * doubles, in place of earlier model outputs; the feature vector and Spark ML's other outputs are
   * left out.
   */
  static Dataset<Row> outputs(ModelFiles model, Dataset<Row> rows, String what) {
    Dataset<Row> clean = clean(rows);
    List<Column> out = new ArrayList<>();
    for (String column : clean.columns()) {
      out.add(col(column));
    }
    out.add(col(PREDICTION).cast("double").as(PREDICTION));
    if (classifier(model)) {
      out.add(col(ModelFiles.SCORE).as(PROBABILITY));
    }
    return model.score(clean, what).select(out.toArray(new Column[0]));
  }

  /** The rows without earlier model outputs. */
  private static Dataset<Row> clean(Dataset<Row> rows) {
    return rows.drop(
        PREDICTION, PROBABILITY, "rawPrediction", ModelFiles.FEATURES_VECTOR, ModelFiles.SCORE);
  }

  private static boolean classifier(ModelFiles model) {
    return model.info().task() == Task.CLASSIFIER;
  }

  static ScoreResult.ShadowComparison compare(
      ModelFiles shadow, Tracking.ModelVersion version, Dataset<Row> written, boolean classifier) {
    String value = classifier ? "probability" : "prediction";
    Dataset<Row> main = written.withColumnRenamed("prediction", "kiln_main_prediction");
    if (classifier) {
      main = main.withColumnRenamed("probability", "kiln_main_probability");
    }
    Dataset<Row> both = outputs(shadow, main, "the scored rows");
    Column mainValue = classifier ? col("kiln_main_probability") : col("kiln_main_prediction");
    Column difference = abs(col(value).minus(mainValue));
    Row row =
        both.agg(
                count(lit(1)),
                avg(
                    when(col("prediction").equalTo(col("kiln_main_prediction")), 1.0)
                        .otherwise(0.0)),
                avg(difference),
                percentile_approx(difference, lit(new double[] {0.5, 0.9, 0.99}), lit(10000)),
                max(difference))
            .first();
    List<Double> quantiles =
        row.isNullAt(3) ? List.of(Double.NaN, Double.NaN, Double.NaN) : row.getList(3);
    return new ScoreResult.ShadowComparison(
        version.name(),
        version.version(),
        row.getLong(0),
        row.isNullAt(1) ? Double.NaN : row.getDouble(1),
        row.isNullAt(2) ? Double.NaN : row.getDouble(2),
        quantiles.get(0),
        quantiles.get(1),
        quantiles.get(2),
        row.isNullAt(4) ? Double.NaN : row.getDouble(4));
  }

  private static void report(TrackedRun run, ScoreConfig config, ScoreResult result) {
    Map<String, String> params = new LinkedHashMap<>();
    params.put("model_uri", config.model().toString());
    params.put("model", result.model());
    params.put("model_version", result.modelVersion());
    params.put("input", result.input().toString());
    params.put("output", config.output());
    result.shadow().ifPresent(s -> params.put("shadow", s.model() + "/" + s.version()));
    run.logParams(params);
    run.logInput(result.input(), "input");
    run.logInput(result.output(), "output");
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", (double) result.rows());
    metrics.put("error_rows", (double) result.errorRows());
    metrics.put(TrackedRun.ELAPSED_SECONDS, result.elapsed().toMillis() / 1000.0);
    metrics.put("throughput_rows_per_second", result.throughput());
    metrics.put("partition_latency_ms_p50", result.partitionMillisP50());
    metrics.put("partition_latency_ms_p99", result.partitionMillisP99());
    result
        .shadow()
        .ifPresent(
            s -> {
              metrics.put("shadow_agreement", s.agreement());
              metrics.put("shadow_mean_abs_difference", s.meanAbsoluteDifference());
              metrics.put("shadow_p50_abs_difference", s.medianAbsoluteDifference());
              metrics.put("shadow_p90_abs_difference", s.p90AbsoluteDifference());
              metrics.put("shadow_p99_abs_difference", s.p99AbsoluteDifference());
              metrics.put("shadow_max_abs_difference", s.maxAbsoluteDifference());
            });
    run.logMetrics(metrics);
    run.setTags(Map.of("kiln.model", result.model(), "kiln.model_version", result.modelVersion()));
  }

  /**
   * Task-end events arrive asynchronously: let the listener see the write's tasks before reading
   * them.
   */
  private void awaitListeners() {
    try {
      spark.sparkContext().listenerBus().waitUntilEmpty();
    } catch (java.util.concurrent.TimeoutException e) {
      // the percentiles then come from the tasks seen so far
    }
  }

  private static Map<String, Object> observed(Observation observation) {
    try {
      return observation.getAsJava();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Map.of();
    }
  }

  private static Path temporaryDirectory() {
    try {
      return Files.createTempDirectory("kiln-score-");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Run time of every task that ends while it listens: one task per partition of the scoring write.
   */
  static final class TaskTimes extends SparkListener {
    private final List<Long> millis = Collections.synchronizedList(new ArrayList<>());

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
      if (taskEnd.taskMetrics() != null) {
        millis.add(taskEnd.taskMetrics().executorRunTime());
      }
    }

    double percentile(double p) {
      List<Long> sorted;
      synchronized (millis) {
        sorted = new ArrayList<>(millis);
      }
      if (sorted.isEmpty()) {
        return Double.NaN;
      }
      Collections.sort(sorted);
      int index = (int) Math.ceil(p * sorted.size()) - 1;
      return sorted.get(Math.max(0, Math.min(index, sorted.size() - 1)));
    }
  }
}
