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
import kiln.core.SparkSessions;
import kiln.core.models.ModelFiles;
import kiln.core.models.ModelInfo;
import kiln.core.models.Split;
import kiln.core.models.Task;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassificationModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressionModel;
import ml.dmlc.xgboost4j.scala.spark.XGBoostRegressor;
import org.apache.spark.ml.Model;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.Predictor;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;

/**
 * Trains an XGBoost (or logistic regression) model on a pinned feature table version: checks the
 * input before any Spark job or native code, splits by key hash, stops early on the validation
 * part, evaluates on the test part. A text model's text columns are embedded first by the stages a
 * {@link TextFeaturizer} gives, once per row, and the saved model is a pipeline of those stages,
 * the vector assembler and the classifier.
 */
public final class Trainer {
  private final SparkSession spark;
  private final GpuProbe gpuProbe;
  private final TextFeaturizer textFeaturizer;

  /** Whether XGBoost reads its features by name; null: as the session decides (RAPIDS on). */
  private final Boolean featuresByName;

  /**
   * @param textFeaturizer the stages for a config's text section; null when none is available (a
   *     text config is then refused)
   */
  public Trainer(SparkSession spark, GpuProbe gpuProbe, TextFeaturizer textFeaturizer) {
    this(spark, gpuProbe, textFeaturizer, null);
  }

  private Trainer(
      SparkSession spark,
      GpuProbe gpuProbe,
      TextFeaturizer textFeaturizer,
      Boolean featuresByName) {
    this.spark = spark;
    this.gpuProbe = gpuProbe;
    this.textFeaturizer = textFeaturizer;
    this.featuresByName = featuresByName;
  }

  /**
   * This trainer with XGBoost reading its features by name ({@code true}) or from the vector,
   * whatever the session: what a RAPIDS session does, taken on a CPU (tests; XGBoost's GPU path
   * needs a GPU).
   */
  Trainer withFeaturesByName(boolean byName) {
    return new Trainer(spark, gpuProbe, textFeaturizer, byName);
  }

  public Trainer(SparkSession spark, GpuProbe gpuProbe) {
    this(spark, gpuProbe, null);
  }

  public Trainer(SparkSession spark) {
    this(spark, GpuProbe.system());
  }

  /**
   * The fitted model and what it was fitted on.
   *
   * @param model what is saved and scores raw rows: the predictor, or for a text model the pipeline
   *     of text stages, assembler and predictor
   * @param split the feature table version with the split column (and, for a text model, the
   *     embedding column: computed once, cached until {@link #release})
   * @param trainRows the rows of the train part (counted with the input checks, in the same pass)
   * @param predictor the classifier or regressor alone, reading {@link ModelFiles#FEATURES_VECTOR}
   *     (also when it was fitted on the features by name)
   * @param assembled the columns of that vector, in order
   * @param assembler adds that vector to rows holding those columns
   * @param slotNames a name for each slot of that vector (an embedding column has one per slot)
   * @param text the text stages' description (empty for a model without text)
   * @param featuresCols the prepared columns ({@link ModelFiles#withFeatureColumns}) XGBoost was
   *     fitted on by name, under RAPIDS; empty when it was fitted on the vector
   */
  public record Fitted(
      Model<?> model,
      DatasetRef features,
      Dataset<Row> split,
      String device,
      long trainRows,
      Map<String, String> featureCommit,
      Model<?> predictor,
      List<String> assembled,
      Transformer assembler,
      List<String> slotNames,
      Map<String, String> text,
      List<String> featuresCols) {

    /** Frees the cached embeddings of a text model. */
    public void release() {
      if (!text.isEmpty()) {
        split.unpersist(false);
      }
    }
  }

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
    TextFeaturizer.Stages text = prepared.text();
    if (!prepared.featuresCols().isEmpty()
        && "cpu".equals(prepared.device())
        && SparkSessions.runsRapids(spark)) {
      // xgboost4j-spark-gpu takes its GPU path whenever RAPIDS is on, and refuses device=cpu there
      throw Errors.badInput(
          "XGBoost cannot train with device cpu in a session with the RAPIDS Accelerator: its"
              + " RAPIDS data path trains on a GPU only",
          "use device: auto or cuda with GPU resources (--profile gpu on a GPU node), or train"
              + " without RAPIDS (--profile cluster, or --conf spark.rapids.sql.enabled=false)");
    }
    Model<?> predictor;
    try {
      // fitted by name under RAPIDS, the model saved and read on a CPU reads the vector
      predictor = ModelFiles.readingVector(prepared.estimator().fit(prepared.train()));
    } catch (RuntimeException e) {
      if (text != null) {
        prepared.split().unpersist(false);
      }
      throw e;
    }
    Model<?> model = predictor;
    if (text != null) {
      List<Transformer> stages = new ArrayList<>(text.stages());
      stages.add(prepared.assembler());
      stages.add(predictor);
      model =
          new PipelineModel(
              Identifiable$.MODULE$.randomUID("kilnTextModel"), stages.toArray(new Transformer[0]));
    }
    return new Fitted(
        model,
        prepared.features(),
        prepared.split(),
        prepared.device(),
        prepared.trainRows(),
        prepared.featureCommit(),
        predictor,
        prepared.assembled(),
        prepared.assembler(),
        prepared.slotNames(),
        text == null ? Map.of() : text.description(),
        prepared.featuresCols());
  }

  /**
   * The data a fit receives, prepared and checked, and the estimator configured for it; nothing
   * fitted yet.
   *
   * @param split the feature table version with the split column (and, for a text model, the
   *     embedding column, cached once computed)
   * @param train the train rows with the feature vector, or under RAPIDS with the features as plain
   *     columns ({@code featuresCols}) instead
   * @param validation the validation rows, as the train rows (early stopping)
   * @param assembled the columns of the feature vector, in order
   * @param assembler adds that vector to rows holding those columns
   * @param slotNames a name for each slot of that vector (an embedding column has one per slot)
   * @param text the text stages of a text model; null without text
   * @param featuresCols the prepared feature columns XGBoost reads by name (under RAPIDS, where
   *     xgboost4j-spark-gpu reads no vector); empty when it reads the vector
   */
  public record Prepared(
      Predictor<?, ?, ?> estimator,
      DatasetRef features,
      Dataset<Row> split,
      Dataset<Row> train,
      Dataset<Row> validation,
      String device,
      long trainRows,
      Map<String, String> featureCommit,
      List<String> assembled,
      Transformer assembler,
      List<String> slotNames,
      TextFeaturizer.Stages text,
      List<String> featuresCols) {}

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
    TextFeaturizer.Stages text = textStages(config);
    List<String> slotNames = featureNames(config, text);
    List<String> assembled = new ArrayList<>(config.featureColumns());
    Dataset<Row> split = Split.assign(table, config.key(), config.seed(), config.split());
    if (text != null) {
      // every row embedded once: the fit, early stopping and the evaluation read the cache
      split =
          new PipelineModel(
                  Identifiable$.MODULE$.randomUID("kilnText"),
                  text.stages().toArray(new Transformer[0]))
              .transform(split)
              .persist(StorageLevel.MEMORY_AND_DISK());
      assembled.add(text.outputColumn());
    }
    // dense vectors only: XGBoost 3.4.0 refuses sparse ones in its fit and mispredicts them in its
    // transform, which the evaluation runs
    Transformer assembler = new DenseAssembler().setInputCols(assembled);
    // under RAPIDS xgboost4j-spark-gpu reads feature columns by name and no vector: each feature
    // prepared as scoring prepares it (a double, null as NaN), built-in expressions only
    List<String> featuresCols =
        featuresByName(config, text)
            ? ModelFiles.featureColumnNames(assembled.size())
            : List.<String>of();
    java.util.function.UnaryOperator<Dataset<Row>> withFeatures =
        rows ->
            featuresCols.isEmpty()
                ? assembler.transform(rows)
                : ModelFiles.withFeatureColumns(rows, assembled);
    Dataset<Row> validation =
        withFeatures.apply(split.where(col(Split.COLUMN).equalTo(Split.VALIDATION)));
    // hyperparameters and device are checked before the one pass over the table
    Predictor<?, ?, ?> estimator =
        estimator(
            config,
            slotNames,
            spark.sparkContext().getConf(),
            gpuProbe,
            spark.sparkContext().defaultParallelism(),
            validation,
            featuresCols);
    long trainRows = checkLabels(config, table, features);
    return new Prepared(
        estimator,
        features,
        split,
        withFeatures.apply(split.where(col(Split.COLUMN).equalTo(Split.TRAIN))),
        validation,
        deviceOf(estimator),
        trainRows,
        featureCommit,
        List.copyOf(assembled),
        assembler,
        List.copyOf(slotNames),
        text,
        featuresCols);
  }

  /**
   * Whether XGBoost reads its features by name: in a session with the RAPIDS Accelerator, whose
   * presence makes xgboost4j-spark-gpu take its GPU data path, which reads feature columns by name
   * and no vector (GpuXGBoostPlugin, 3.4.0). Spark ML's logistic regression reads its vector
   * anywhere. A text model's embedding is a vector, which that path cannot read: refused there.
   */
  private boolean featuresByName(TrainConfig config, TextFeaturizer.Stages text) {
    boolean rapids = featuresByName != null ? featuresByName : SparkSessions.runsRapids(spark);
    if (!rapids || config.algorithm() == Algorithm.LOGISTIC_REGRESSION) {
      return false;
    }
    if (text != null) {
      throw Errors.badInput(
          "text model "
              + config.model()
              + " cannot train with XGBoost in a session with the RAPIDS Accelerator: its"
              + " embedding is a vector, and xgboost4j-spark-gpu's GPU path reads plain feature"
              + " columns only",
          "train text models with algorithm: logistic_regression, or without RAPIDS (--profile"
              + " cluster, or --conf spark.rapids.sql.enabled=false)");
    }
    return true;
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
    return estimator(
        config,
        config.featureColumns(),
        conf,
        probe,
        defaultParallelism,
        validation,
        SparkSessions.runsRapids(conf) && config.algorithm() != Algorithm.LOGISTIC_REGRESSION
            ? ModelFiles.featureColumnNames(config.featureColumns().size())
            : List.of());
  }

  /**
   * As above, with a name for each slot of the feature vector (a text model's embedding has many)
   * and the prepared feature columns XGBoost reads by name (empty: it reads the vector).
   */
  static Predictor<?, ?, ?> estimator(
      TrainConfig config,
      List<String> slotNames,
      org.apache.spark.SparkConf conf,
      GpuProbe probe,
      int defaultParallelism,
      Dataset<Row> validation,
      List<String> featuresCols) {
    Predictor<?, ?, ?> estimator = estimator(config);
    Device.Choice choice = config.device().decide(conf, probe);
    String device = choice.device();
    // which device and why: with GPUs on the executors only, cpu here would be a silent slowdown
    org.slf4j.LoggerFactory.getLogger(Trainer.class)
        .info("XGBoost device {}: {}", device, choice.reason());
    int taskCpus = conf.getInt("spark.task.cpus", 1);
    int nthread = Math.min(config.nthread() == null ? taskCpus : config.nthread(), taskCpus);
    int workers =
        config.numWorkers() == null ? Math.max(1, defaultParallelism) : config.numWorkers();
    configure(estimator, config, slotNames, device, nthread, workers, validation);
    if (!featuresCols.isEmpty()) {
      String[] names = featuresCols.toArray(new String[0]);
      if (estimator instanceof XGBoostClassifier classifier) {
        classifier.setFeaturesCol(names);
      } else if (estimator instanceof XGBoostRegressor regressor) {
        regressor.setFeaturesCol(names);
      }
    }
    return estimator;
  }

  /** The device XGBoost was given; Spark ML's own estimators run on the CPU. */
  private static String deviceOf(Predictor<?, ?, ?> estimator) {
    if (estimator instanceof XGBoostClassifier c) {
      return c.getDevice();
    }
    return estimator instanceof XGBoostRegressor r ? r.getDevice() : "cpu";
  }

  /** The text stages of a text model (null without text), before any Spark job. */
  private TextFeaturizer.Stages textStages(TrainConfig config) {
    if (config.text() == null) {
      return null;
    }
    if (textFeaturizer == null) {
      throw Errors.environment(
          "this training has no text featurizer, so the text columns "
              + config.text().columns()
              + " cannot be embedded",
          "train text models with `kiln train`, which brings Spark NLP's embeddings");
    }
    return textFeaturizer.stages(spark, config.text());
  }

  /** XGBoost's names of the vector's slots: the numeric columns, then one per embedding slot. */
  private static List<String> featureNames(TrainConfig config, TextFeaturizer.Stages text) {
    List<String> names = new ArrayList<>(config.featureColumns());
    if (text != null) {
      for (int i = 0; i < text.dimension(); i++) {
        names.add(text.outputColumn() + "_" + i);
      }
    }
    return names;
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
            .textColumns(config.text() == null ? List.of() : config.text().columns())
            .build();
    ModelFiles saved = ModelFiles.save(fitted, info, directory);
    List<org.apache.spark.sql.Column> kept = new ArrayList<>();
    kept.add(col(Split.COLUMN));
    kept.add(col(config.label()));
    fit.assembled().forEach(c -> kept.add(col(c)));
    config.groupColumns().stream()
        .filter(g -> !fit.assembled().contains(g) && !g.equals(config.label()))
        .distinct()
        .forEach(g -> kept.add(col(g)));
    Dataset<Row> heldOut =
        fit.split()
            .where(col(Split.COLUMN).isin(Split.VALIDATION, Split.TEST))
            .select(kept.toArray(new org.apache.spark.sql.Column[0]));
    // the predictor on the assembled columns: a text model's held-out rows are embedded already.
    // Fitted by name under RAPIDS, it reads the prepared columns by name there too (XGBoost's GPU
    // transform reads no vector), and their vector on a CPU
    Model<?> evaluated = scoresOnly(fit.predictor(), config.task());
    Evaluation.Parts parts;
    try {
      Dataset<Row> scoredHeldOut =
          fit.featuresCols().isEmpty()
              ? evaluated.transform(fit.assembler().transform(heldOut))
              : ModelFiles.transformColumns(
                  evaluated,
                  ModelFiles.withFeatureColumns(heldOut, fit.assembled()),
                  fit.featuresCols(),
                  SparkSessions.runsRapids(spark));
      parts =
          Evaluation.evaluate(
              ModelFiles.withScore(scoredHeldOut, config.task()),
              col(Split.COLUMN),
              List.of(Split.VALIDATION, Split.TEST),
              Split.TEST,
              config.task(),
              config.label(),
              config.threshold(),
              config.groupColumns(),
              config.minGroupRows());
    } finally {
      fit.release();
    }
    Evaluation.Result evaluation = parts.parts().get(Split.TEST);
    Map<String, Double> validationMetrics = parts.parts().get(Split.VALIDATION).metrics();
    double latency =
        parts.rows() == 0
            ? Double.NaN
            : parts.scanNanos() / 1e6 / Math.max(parts.rows(), 1000) * 1000;
    ModelFiles model = saved.withMetrics(evaluation.metrics());
    return new TrainingResult(
        model,
        features,
        evaluation,
        validationMetrics,
        latency,
        importance(fit.predictor(), fit.assembled(), fit.slotNames()),
        bestIteration(fit.predictor()),
        fit.device(),
        fit.trainRows(),
        validationMetrics.get("rows").longValue(),
        evaluation.metrics().get("rows").longValue(),
        model.sha256(),
        CodeVersion.current().describe(),
        Duration.ofNanos(System.nanoTime() - started));
  }

  /**
   * The predictor as the evaluation uses it: a classifier gives its probabilities only. Without the
   * raw prediction XGBoost predicts each row once instead of twice (margins, then probabilities);
   * the probabilities are the same.
   */
  private static Model<?> scoresOnly(Model<?> predictor, Task task) {
    if (task != Task.CLASSIFIER
        || !predictor.hasParam("rawPredictionCol")
        || !predictor.hasParam("predictionCol")) {
      return predictor;
    }
    return (Model<?>)
        predictor.copy(
            new ParamMap()
                .put(predictor.getParam("rawPredictionCol"), "")
                .put(predictor.getParam("predictionCol"), ""));
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
        config.algorithm() == Algorithm.LOGISTIC_REGRESSION
            ? new LogisticRegression()
            : config.task() == Task.CLASSIFIER ? new XGBoostClassifier() : new XGBoostRegressor();
    Hyperparameters.apply(config.hyperparameters(), estimator);
    return estimator;
  }

  private static void configure(
      Predictor<?, ?, ?> estimator,
      TrainConfig config,
      List<String> slotNames,
      String device,
      int nthread,
      int workers,
      Dataset<Row> validation) {
    String[] columns = slotNames.toArray(new String[0]);
    if (estimator instanceof LogisticRegression regression) {
      // no early stopping: it converges on the train part (maxIter, tol); validation is evaluated
      regression.setFeaturesCol(ModelFiles.FEATURES_VECTOR);
      regression.setLabelCol(config.label());
      regression.setFamily("binomial");
    } else if (estimator instanceof XGBoostClassifier classifier) {
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
    if (config.text() != null) {
      needed.addAll(config.text().columns());
    }
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
    for (String column : config.text() == null ? List.<String>of() : config.text().columns()) {
      StructField field = table.schema().apply(column);
      if (!field.dataType().equals(DataTypes.StringType)) {
        throw Errors.badInput(
            "text column '"
                + column
                + "' of "
                + features
                + " has type "
                + field.dataType().simpleString()
                + ", not string",
            "list only string columns under text.columns (cast others to string in `kiln features`)");
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

  /**
   * XGBoost's gain per assembled column (an embedding column's slots summed); empty for logistic
   * regression, whose coefficients are not comparable across columns of different scales.
   */
  private static Map<String, Double> importance(
      Model<?> model, List<String> columns, List<String> slotNames) {
    ml.dmlc.xgboost4j.scala.Booster booster = booster(model);
    Map<String, Double> importance = new LinkedHashMap<>();
    if (booster == null) {
      return importance;
    }
    try {
      scala.collection.immutable.Map<String, Object> scores =
          booster.getScore(slotNames.toArray(new String[0]), "gain");
      for (String column : columns) {
        importance.put(column, 0.0);
      }
      for (String slot : slotNames) {
        Object value = scores.get(slot).getOrElse(() -> 0.0);
        String column = columns.contains(slot) ? slot : slot.substring(0, slot.lastIndexOf('_'));
        importance.merge(column, ((Number) value).doubleValue(), Double::sum);
      }
    } catch (ml.dmlc.xgboost4j.java.XGBoostError e) {
      throw new IllegalStateException(
          "XGBoost could not report feature importance: " + e.getMessage(), e);
    }
    return importance;
  }

  private static ml.dmlc.xgboost4j.scala.Booster booster(Model<?> model) {
    if (model instanceof XGBoostClassificationModel c) {
      return c.nativeBooster();
    }
    return model instanceof XGBoostRegressionModel r ? r.nativeBooster() : null;
  }

  private static int bestIteration(Model<?> model) {
    ml.dmlc.xgboost4j.scala.Booster booster = booster(model);
    if (booster == null) {
      return -1;
    }
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
