package kiln.training;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.CodeVersion;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.GpuProbe;
import kiln.core.PinnedTable;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.Split;
import kiln.core.models.Task;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressor;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.Predictor;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;

/**
 * Trains an XGBoost model on a pinned feature table version: checks the input before any Spark job
 * or native code, splits by key hash, stops early on the validation part, evaluates on the test
 * part.
 */
public final class Trainer {
  private final SparkSession spark;
  private final GpuProbe gpuProbe;

  public Trainer(SparkSession spark, GpuProbe gpuProbe) {
    this.spark = spark;
    this.gpuProbe = gpuProbe;
  }

  public Trainer(SparkSession spark) {
    this(spark, GpuProbe.system());
  }

  /**
   * The fitted model and what it was fitted on.
   *
   * @param split the feature table version with the split column
   * @param trainRows the rows of the train part (counted with the input checks, in the same pass)
   */
  public record Fitted(
      Model<?> model,
      DatasetRef features,
      Dataset<Row> split,
      String device,
      long trainRows,
      Map<String, String> featureCommit) {}

  /**
   * The data a fit receives, prepared and checked, and the estimator configured for it; nothing
   * fitted yet.
   *
   * @param train the train rows with the feature vector
   * @param validation the validation rows with the feature vector (early stopping)
   */
  public record Prepared(
      Predictor<?, ?, ?> estimator,
      DatasetRef features,
      Dataset<Row> split,
      Dataset<Row> train,
      Dataset<Row> validation,
      String device,
      long trainRows,
      Map<String, String> featureCommit) {}

  /**
   * Checks the input (columns, hyperparameters, device, labels: before any native code runs),
   * splits by key hash and fits with early stopping on the validation part. No evaluation.
   */
  public Fitted fit(TrainConfig config) {
    return fit(config, pin(config));
  }

  /** The feature table the config names, resolved once (a grid search's trials share it). */
  public PinnedTable pin(TrainConfig config) {
    return new Datasets(spark).pin(config.featuresRef());
  }

  /** As {@link #fit(TrainConfig)}, on a feature table version resolved by the caller. */
  public Fitted fit(TrainConfig config, PinnedTable pinned) {
    Prepared prepared = prepare(config, pinned);
    Model<?> fitted = prepared.estimator().fit(prepared.train());
    return new Fitted(
        fitted,
        prepared.features(),
        prepared.split(),
        prepared.device(),
        prepared.trainRows(),
        prepared.featureCommit());
  }

  /**
   * Training's data preparation: the checks (one pass over the table), the split, the feature
   * vectors, and the estimator with its parameters. No XGBoost code runs: {@code kiln gpu check}
   * judges these plans in a RAPIDS session on machines without a GPU.
   */
  public Prepared prepare(TrainConfig config) {
    return prepare(config, pin(config));
  }

  /** As {@link #prepare(TrainConfig)}, on a feature table version resolved by the caller. */
  public Prepared prepare(TrainConfig config, PinnedTable pinned) {
    Datasets datasets = new Datasets(spark);
    DatasetRef features = pinned.ref();
    Map<String, String> featureCommit = commit(datasets, features);
    checkSplit(config, featureCommit, features);
    Dataset<Row> table = pinned.rows();
    checkColumns(config, table, features);
    Dataset<Row> split = Split.assign(table, config.key(), config.seed(), config.split());
    Dataset<Row> train = split.where(col(Split.COLUMN).equalTo(Split.TRAIN));
    Dataset<Row> validation =
        ModelFiles.assemble(
            split.where(col(Split.COLUMN).equalTo(Split.VALIDATION)), config.featureColumns());
    // hyperparameters and device are checked before the one pass over the table
    Predictor<?, ?, ?> estimator =
        estimator(
            config,
            spark.sparkContext().getConf(),
            gpuProbe,
            spark.sparkContext().defaultParallelism(),
            validation);
    long trainRows = checkLabels(config, table, features);
    return new Prepared(
        estimator,
        features,
        split,
        ModelFiles.assemble(train, config.featureColumns()),
        validation,
        deviceOf(estimator),
        trainRows,
        featureCommit);
  }

  /**
   * The estimator with every parameter XGBoost will receive, for a session with this configuration
   * on this machine: {@code device} is {@code cuda} only when the session has GPU resources and the
   * machine a GPU, and refused when asked for without them. Calls no XGBoost native code.
   */
  static Predictor<?, ?, ?> estimator(
      TrainConfig config,
      org.apache.spark.SparkConf conf,
      GpuProbe probe,
      int defaultParallelism,
      Dataset<Row> validation) {
    Predictor<?, ?, ?> estimator = estimator(config);
    String device = config.device().resolve(conf, probe);
    int taskCpus = conf.getInt("spark.task.cpus", 1);
    int nthread = Math.min(config.nthread() == null ? taskCpus : config.nthread(), taskCpus);
    int workers =
        config.numWorkers() == null ? Math.max(1, defaultParallelism) : config.numWorkers();
    configure(estimator, config, device, nthread, workers, validation);
    return estimator;
  }

  private static String deviceOf(Predictor<?, ?, ?> estimator) {
    return estimator instanceof XGBoostClassifier c
        ? c.getDevice()
        : ((XGBoostRegressor) estimator).getDevice();
  }

  /**
   * Trains, evaluates and saves the model under {@code directory}. The validation and test rows are
   * read and scored once, in one pass that gives both parts' metrics, the groups' and the scoring
   * time.
   */
  public TrainingResult train(TrainConfig config, Path directory) {
    return train(config, pin(config), directory);
  }

  /** As {@link #train(TrainConfig, Path)}, on a feature table version resolved by the caller. */
  public TrainingResult train(TrainConfig config, PinnedTable pinned, Path directory) {
    long started = System.nanoTime();
    CodeVersion.prefetch(); // hashing the jar overlaps with the fit
    Fitted fit = fit(config, pinned);
    Model<?> fitted = fit.model();
    DatasetRef features = fit.features();
    Map<String, String> source = fit.featureCommit();
    ModelInfo info =
        ModelInfo.builder()
            .task(config.task())
            .label(config.label())
            .featureColumns(config.featureColumns())
            .key(config.key())
            .seed(config.seed())
            .split(config.split())
            .threshold(config.threshold())
            .groupColumns(config.groupColumns())
            .minGroupRows(config.minGroupRows())
            .featureTable(features.table(), features.version())
            .dataTable(source.get(FeatureJob.INPUT_TABLE), sourceVersion(source))
            .device(fit.device())
            .hyperparameters(config.hyperparameters())
            .build();
    ModelFiles unsaved = ModelFiles.unsaved(fitted, info, directory);
    // The files are written while the evaluation job runs: writing is a one-task Spark job and file
    // commits, mostly waiting, and the evaluation scores with the model in memory. A thread of its
    // own, so that it inherits the Spark job properties of this one.
    java.util.concurrent.CompletableFuture<ModelFiles> written =
        java.util.concurrent.CompletableFuture.supplyAsync(
            unsaved::write,
            task -> {
              Thread writer = new Thread(task, "kiln-model-writer");
              writer.setDaemon(true);
              writer.start();
            });
    List<org.apache.spark.sql.Column> kept = new ArrayList<>();
    kept.add(col(Split.COLUMN));
    kept.add(col(config.label()));
    config.featureColumns().forEach(c -> kept.add(col(c)));
    config.groupColumns().stream()
        .filter(g -> !config.featureColumns().contains(g) && !g.equals(config.label()))
        .distinct()
        .forEach(g -> kept.add(col(g)));
    Dataset<Row> heldOut =
        fit.split()
            .where(col(Split.COLUMN).isin(Split.VALIDATION, Split.TEST))
            .select(kept.toArray(new org.apache.spark.sql.Column[0]));
    Evaluation.Parts parts =
        Evaluation.evaluate(
            unsaved.score(heldOut),
            col(Split.COLUMN),
            List.of(Split.VALIDATION, Split.TEST),
            Split.TEST,
            config.task(),
            config.label(),
            config.threshold(),
            config.groupColumns(),
            config.minGroupRows());
    Evaluation.Result evaluation = parts.parts().get(Split.TEST);
    Map<String, Double> validationMetrics = parts.parts().get(Split.VALIDATION).metrics();
    double latency =
        parts.rows() == 0
            ? Double.NaN
            : parts.scanNanos() / 1e6 / Math.max(parts.rows(), 1000) * 1000;
    ModelFiles model = joinWrite(written).withMetrics(evaluation.metrics());
    return new TrainingResult(
        model,
        features,
        evaluation,
        validationMetrics,
        latency,
        importance(fitted, config.featureColumns()),
        bestIteration(fitted),
        fit.device(),
        fit.trainRows(),
        validationMetrics.get("rows").longValue(),
        evaluation.metrics().get("rows").longValue(),
        model.sha256(),
        CodeVersion.current().describe(),
        Duration.ofNanos(System.nanoTime() - started));
  }

  /** The written model files, or the writer's own error (an I/O error stays one). */
  private static ModelFiles joinWrite(java.util.concurrent.CompletableFuture<ModelFiles> written) {
    try {
      return written.join();
    } catch (java.util.concurrent.CompletionException e) {
      if (e.getCause() instanceof RuntimeException cause) {
        throw cause;
      }
      throw e;
    }
  }

  /**
   * The test-set evaluation of any model Kiln trained, on rows that hold its features and label.
   */
  public static Evaluation.Result evaluate(ModelFiles model, Dataset<Row> test) {
    ModelInfo info = model.info();
    return evaluate(model, test, info.groupColumns());
  }

  /** Scores once, keeps just what the metrics read, and computes them from that in one pass. */
  private static Evaluation.Result evaluate(
      ModelFiles model, Dataset<Row> rows, List<String> groupColumns) {
    ModelInfo info = model.info();
    return Evaluation.evaluate(
        model.score(rows),
        info.task(),
        info.label(),
        info.threshold(),
        groupColumns,
        info.minGroupRows());
  }

  /**
   * Scoring time per 1000 rows: the model applied to every row, nothing written. A set smaller than
   * 1000 rows counts as one batch of 1000, so that a small test set does not blow Spark's fixed job
   * cost up.
   */
  public static double latencyMillisPer1000Rows(ModelFiles model, Dataset<Row> rows) {
    long count = rows.count();
    long started = System.nanoTime();
    model.score(rows).select(col(Evaluation.SCORE)).write().format("noop").mode("overwrite").save();
    double millis = (System.nanoTime() - started) / 1e6;
    return count == 0 ? Double.NaN : millis / Math.max(count, 1000) * 1000;
  }

  static Predictor<?, ?, ?> estimator(TrainConfig config) {
    Predictor<?, ?, ?> estimator =
        config.task() == Task.CLASSIFIER ? new XGBoostClassifier() : new XGBoostRegressor();
    Hyperparameters.apply(config.hyperparameters(), estimator);
    return estimator;
  }

  private static void configure(
      Predictor<?, ?, ?> estimator,
      TrainConfig config,
      String device,
      int nthread,
      int workers,
      Dataset<Row> validation) {
    String[] columns = config.featureColumns().toArray(new String[0]);
    if (estimator instanceof XGBoostClassifier classifier) {
      classifier.setFeaturesCol(ModelFiles.FEATURES_VECTOR);
      classifier.setFeatureNames(columns);
      classifier.setLabelCol(config.label());
      classifier.setDevice(device);
      classifier.setNthread(nthread);
      classifier.setNumWorkers(workers);
      classifier.setNumRound(config.numRound());
      classifier.setForceRepartition(true);
      classifier.setSeed(config.seed());
      if (!classifier.isSet(classifier.objective())) {
        // not inferred from the label when the estimator is built without parameters: a 0/1
        // regression otherwise
        classifier.setObjective("binary:logistic");
      }
      if (!classifier.isSet(classifier.treeMethod())) {
        classifier.setTreeMethod("hist");
      }
      if (config.earlyStoppingRounds() > 0) {
        classifier.setNumEarlyStoppingRounds(config.earlyStoppingRounds());
        classifier.setEvalDataset(validation);
      }
    } else if (estimator instanceof XGBoostRegressor regressor) {
      regressor.setFeaturesCol(ModelFiles.FEATURES_VECTOR);
      regressor.setFeatureNames(columns);
      regressor.setLabelCol(config.label());
      regressor.setDevice(device);
      regressor.setNthread(nthread);
      regressor.setNumWorkers(workers);
      regressor.setNumRound(config.numRound());
      regressor.setForceRepartition(true);
      regressor.setSeed(config.seed());
      if (!regressor.isSet(regressor.objective())) {
        regressor.setObjective("reg:squarederror");
      }
      if (!regressor.isSet(regressor.treeMethod())) {
        regressor.setTreeMethod("hist");
      }
      if (config.earlyStoppingRounds() > 0) {
        regressor.setNumEarlyStoppingRounds(config.earlyStoppingRounds());
        regressor.setEvalDataset(validation);
      }
    }
  }

  /**
   * The feature table's statistics come from the train rows of the split it records (tables built
   * before it was recorded are taken as they are): training with another split would evaluate on
   * rows whose labels are in those statistics.
   */
  static void checkSplit(TrainConfig config, Map<String, String> commit, DatasetRef features) {
    String seed = commit.get(FeatureJob.SPLIT_SEED);
    String fractions = commit.get(FeatureJob.SPLIT_FRACTIONS);
    String key = commit.get(FeatureJob.SPLIT_KEY);
    if (seed == null && fractions == null && key == null) {
      return;
    }
    boolean same =
        (seed == null || seed.equals(String.valueOf(config.seed())))
            && (fractions == null || fractions.equals(config.split().describe()))
            && (key == null || key.equals(config.key()));
    if (!same) {
      String built = "key " + key + ", seed " + seed + ", fractions " + fractions;
      String asked = Split.describe(config.key(), config.seed(), config.split());
      throw Errors.badInput(
          "feature table "
              + features
              + " was built with the split "
              + built
              + ", but the training config asks for "
              + asked
              + ": the feature statistics would hold labels of"
              + " this training's validation and test rows",
          "put `seed: "
              + seed
              + "`, `split: "
              + yaml(fractions)
              + "` and `key: "
              + key
              + "` in the training config,"
              + " or rebuild the features with `kiln features` and `seed: "
              + config.seed()
              + "`, `split: "
              + yaml(config.split().describe())
              + "` in its config");
    }
  }

  /** {@code 0.7/0.15/0.15} as the YAML a config takes; as it is if it is not three shares. */
  private static String yaml(String fractions) {
    String[] shares = fractions == null ? new String[0] : fractions.split("/");
    return shares.length != 3
        ? String.valueOf(fractions)
        : "{train: " + shares[0] + ", validation: " + shares[1] + ", test: " + shares[2] + "}";
  }

  private static void checkColumns(TrainConfig config, Dataset<Row> table, DatasetRef features) {
    List<String> available = Arrays.asList(table.columns());
    List<String> needed = new ArrayList<>(config.featureColumns());
    needed.add(config.label());
    needed.add(config.key());
    needed.addAll(config.groupColumns());
    List<String> missing = needed.stream().filter(c -> !available.contains(c)).distinct().toList();
    if (!missing.isEmpty()) {
      throw Errors.missingColumns("feature table " + features, missing, available);
    }
    for (String column : config.featureColumns()) {
      StructField field = table.schema().apply(column);
      if (!(field.dataType() instanceof NumericType)
          && !field.dataType().typeName().equals("boolean")) {
        throw Errors.badInput(
            "feature column '"
                + column
                + "' of "
                + features
                + " has type "
                + field.dataType().simpleString()
                + "; XGBoost needs numbers",
            "encode it as a number in `kiln features`, or leave it out of featureColumns");
      }
    }
    if (!(table.schema().apply(config.label()).dataType() instanceof NumericType)) {
      throw Errors.badInput(
          "label column '" + config.label() + "' of " + features + " is not numeric",
          "give a numeric label (0/1 for a classifier)");
    }
  }

  /** Checks the labels and counts the train rows, in one pass; returns the train rows. */
  private static long checkLabels(TrainConfig config, Dataset<Row> table, DatasetRef features) {
    Row row =
        table
            .agg(
                count(lit(1)),
                sum(when(col(config.label()).isNull(), 1).otherwise(0)),
                min(col(config.label()).cast("double")),
                max(col(config.label()).cast("double")),
                sum(when(col(config.label()).isin(0, 1), 0).otherwise(1)),
                sum(
                    when(Split.isTrain(config.key(), config.seed(), config.split()), 1L)
                        .otherwise(0L)))
            .first();
    long rows = row.getLong(0);
    if (rows == 0) {
      throw Errors.badInput(
          "feature table " + features + " has no rows",
          "build the features from a table with data");
    }
    long nulls = row.isNullAt(1) ? 0 : row.getLong(1);
    if (nulls > 0) {
      throw Errors.badInput(
          "label column '"
              + config.label()
              + "' of "
              + features
              + " has "
              + nulls
              + " null value(s) in "
              + rows
              + " rows",
          "drop or fill the rows without a label before training");
    }
    if (config.task() == Task.CLASSIFIER) {
      long other = row.isNullAt(4) ? 0 : row.getLong(4);
      if (other > 0) {
        throw Errors.badInput(
            "label column '"
                + config.label()
                + "' of "
                + features
                + " has "
                + other
                + " value(s) other than 0 and 1",
            "a classifier needs a 0/1 label; or train with task: regressor");
      }
      if (row.getDouble(2) == row.getDouble(3)) {
        throw Errors.badInput(
            "label column '"
                + config.label()
                + "' of "
                + features
                + " has a single class ("
                + row.getDouble(2)
                + " in all "
                + rows
                + " rows)",
            "train on data with both classes");
      }
    }
    return row.getLong(5);
  }

  private static Map<String, Double> importance(Model<?> model, List<String> columns) {
    ml.dmlc.xgboost4j.scala.Booster booster =
        model instanceof XGBoostClassificationModel c
            ? c.nativeBooster()
            : ((XGBoostRegressionModel) model).nativeBooster();
    Map<String, Double> importance = new LinkedHashMap<>();
    try {
      scala.collection.immutable.Map<String, Object> scores =
          booster.getScore(columns.toArray(new String[0]), "gain");
      for (String column : columns) {
        Object value = scores.get(column).getOrElse(() -> 0.0);
        importance.put(column, ((Number) value).doubleValue());
      }
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException(
          "XGBoost could not report feature importance: " + e.getMessage(), e);
    }
    return importance;
  }

  private static int bestIteration(Model<?> model) {
    ml.dmlc.xgboost4j.scala.Booster booster =
        model instanceof XGBoostClassificationModel c
            ? c.nativeBooster()
            : ((XGBoostRegressionModel) model).nativeBooster();
    try {
      String best = booster.getAttr("best_iteration");
      return best == null ? -1 : Integer.parseInt(best);
    } catch (ml.dmlc.xgboost4j.java.XGBoostError | NumberFormatException e) {
      return -1;
    }
  }

  private static Long sourceVersion(Map<String, String> featureCommit) {
    String version = featureCommit.get(FeatureJob.INPUT_VERSION);
    return version == null ? null : Long.parseLong(version);
  }

  /**
   * The metadata of the commit that made this feature table version (read from its log file, no
   * Spark job).
   */
  private static Map<String, String> commit(Datasets datasets, DatasetRef features) {
    return Datasets.commitMetadata(datasets.commitAt(features.table(), features.version()));
  }
}
