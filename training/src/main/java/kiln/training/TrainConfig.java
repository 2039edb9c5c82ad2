package kiln.training;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import kiln.core.models.Task;

/**
 * What {@code kiln train} trains. Defaults are filled in here, in one place; nothing defaults to a
 * data set's columns ({@code training/examples/flights-train.yaml} is the flights sample's).
 *
 * @param features the feature table, {@code TABLE[@VERSION]}
 * @param model the registered model name the new version goes to
 * @param task classifier (default) or regressor
 * @param label the label column (required; 0/1 for a classifier)
 * @param featureColumns the numeric columns to train on (required unless {@code text} is given)
 * @param key the column the split hashes (required); must be the feature table's split key
 * @param seed seed of the split and of XGBoost (default 42); must be the feature table's split seed
 * @param split shares of train, validation and test (default 0.7 / 0.15 / 0.15); must be the
 *     feature table's
 * @param hyperparameters XGBoost parameters by their XGBoost names, e.g. max_depth, eta; unknown
 *     names are refused
 * @param numRound boosting rounds at most (default 100)
 * @param earlyStoppingRounds stop when the validation metric has not improved for this many rounds
 *     (default 10)
 * @param device auto (default), cpu or cuda
 * @param numWorkers XGBoost workers (default: Spark's default parallelism)
 * @param nthread threads per worker (default: spark.task.cpus; never more)
 * @param threshold the probability from which a classifier predicts 1 (default 0.5)
 * @param groupColumns columns whose groups get their own metrics and the largest gap (e.g. origin)
 * @param minGroupRows groups with fewer test rows are left out of the gap (default 100)
 * @param tuning a hyperparameter search; the best trial is registered (none by default)
 * @param algorithm xgboost (default) or logistic_regression (classifier only; hyperparameters by
 *     Spark ML's names: regParam, elasticNetParam, maxIter, ...)
 * @param text text columns embedded into the features (a text model; none by default)
 */
public record TrainConfig(
    String features,
    String model,
    Task task,
    String label,
    List<String> featureColumns,
    String key,
    Long seed,
    SplitFractions split,
    Map<String, Object> hyperparameters,
    Integer numRound,
    Integer earlyStoppingRounds,
    Device device,
    Integer numWorkers,
    Integer nthread,
    Double threshold,
    List<String> groupColumns,
    Integer minGroupRows,
    TuningConfig tuning,
    Algorithm algorithm,
    TextConfig text) {

  public TrainConfig {
    Objects.requireNonNull(
        features, "features is missing: give the feature table, e.g. features: /data/features@0");
    Objects.requireNonNull(
        model, "model is missing: give the registered model name, e.g. model: flight-delays");
    DatasetRef.parse(features);
    if (!model.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw Errors.badInput(
          "model name '" + model + "' may hold only letters, digits, '_', '.', '-'",
          "correct the training config (--config)");
    }
    Objects.requireNonNull(label, "label is missing: name the label column, e.g. label: label");
    if (featureColumns == null && text == null) {
      throw Errors.badInput(
          "featureColumns is missing",
          "list the columns to train on, e.g. featureColumns: [hour, distance],"
              + " or text columns under text: {columns: [...]}");
    }
    Objects.requireNonNull(
        key, "key is missing: name the feature table's split key, e.g. key: flight_id");
    task = task == null ? Task.CLASSIFIER : task;
    featureColumns = featureColumns == null ? List.of() : List.copyOf(featureColumns);
    if (featureColumns.isEmpty() && text == null) {
      throw Errors.badInput(
          "featureColumns is empty; list the columns to train on",
          "correct the training config (--config)");
    }
    if (featureColumns.contains(label)) {
      throw Errors.badInput(
          "featureColumns contains the label '" + label + "'",
          "correct the training config (--config)");
    }
    seed = seed == null ? Split.DEFAULT_SEED : seed;
    split = split == null ? SplitFractions.DEFAULT : split;
    hyperparameters =
        hyperparameters == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hyperparameters));
    numRound = numRound == null ? 100 : numRound;
    earlyStoppingRounds = earlyStoppingRounds == null ? 10 : earlyStoppingRounds;
    if (numRound < 1 || earlyStoppingRounds < 0) {
      throw Errors.badInput(
          "numRound must be at least 1 and earlyStoppingRounds at least 0",
          "correct the training config (--config)");
    }
    device = device == null ? Device.AUTO : device;
    if (numWorkers != null && numWorkers < 1 || nthread != null && nthread < 1) {
      throw Errors.badInput(
          "numWorkers and nthread must be at least 1", "correct the training config (--config)");
    }
    threshold = threshold == null ? 0.5 : threshold;
    if (threshold <= 0 || threshold >= 1) {
      throw Errors.badInput(
          "threshold " + threshold + " must lie between 0 and 1",
          "correct the training config (--config)");
    }
    groupColumns = groupColumns == null ? List.of() : List.copyOf(groupColumns);
    minGroupRows = minGroupRows == null ? 100 : minGroupRows;
    algorithm = algorithm == null ? Algorithm.XGBOOST : algorithm;
    if (algorithm == Algorithm.LOGISTIC_REGRESSION && task != Task.CLASSIFIER) {
      throw Errors.badInput(
          "algorithm logistic_regression trains classifiers only, and task is "
              + task.name().toLowerCase(java.util.Locale.ROOT),
          "use algorithm: xgboost for a regressor");
    }
    if (text != null) {
      List<String> both = text.columns().stream().filter(featureColumns::contains).toList();
      if (!both.isEmpty() || text.columns().contains(label)) {
        throw Errors.badInput(
            "text.columns " + text.columns() + " overlap featureColumns or the label",
            "a column is either numeric (featureColumns), text (text.columns) or the label");
      }
    }
  }

  public DatasetRef featuresRef() {
    return DatasetRef.parse(features);
  }

  /** A copy with other hyperparameters and no search (tuning trials). */
  public TrainConfig withHyperparameters(Map<String, Object> values) {
    return toBuilder().hyperparameters(values).tuning(null).build();
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder holding this config's values, e.g. to point an example config at another feature
   * table.
   */
  public Builder toBuilder() {
    return new Builder()
        .features(features)
        .model(model)
        .task(task)
        .label(label)
        .featureColumns(featureColumns)
        .key(key)
        .seed(seed)
        .split(split)
        .hyperparameters(hyperparameters)
        .numRound(numRound)
        .earlyStoppingRounds(earlyStoppingRounds)
        .device(device)
        .numWorkers(numWorkers)
        .nthread(nthread)
        .threshold(threshold)
        .groupColumns(groupColumns)
        .minGroupRows(minGroupRows)
        .tuning(tuning)
        .algorithm(algorithm)
        .text(text);
  }

  /** Builds a {@link TrainConfig}; what is not set takes the record's default. */
  public static final class Builder {
    private String features;
    private String model;
    private Task task;
    private String label;
    private List<String> featureColumns;
    private String key;
    private Long seed;
    private SplitFractions split;
    private Map<String, Object> hyperparameters;
    private Integer numRound;
    private Integer earlyStoppingRounds;
    private Device device;
    private Integer numWorkers;
    private Integer nthread;
    private Double threshold;
    private List<String> groupColumns;
    private Integer minGroupRows;
    private TuningConfig tuning;
    private Algorithm algorithm;
    private TextConfig text;

    private Builder() {}

    public Builder algorithm(Algorithm value) {
      this.algorithm = value;
      return this;
    }

    public Builder text(TextConfig value) {
      this.text = value;
      return this;
    }

    public Builder features(String value) {
      this.features = value;
      return this;
    }

    public Builder model(String value) {
      this.model = value;
      return this;
    }

    public Builder task(Task value) {
      this.task = value;
      return this;
    }

    public Builder label(String value) {
      this.label = value;
      return this;
    }

    public Builder featureColumns(List<String> value) {
      this.featureColumns = value;
      return this;
    }

    public Builder key(String value) {
      this.key = value;
      return this;
    }

    public Builder seed(Long value) {
      this.seed = value;
      return this;
    }

    public Builder split(SplitFractions value) {
      this.split = value;
      return this;
    }

    public Builder hyperparameters(Map<String, Object> value) {
      this.hyperparameters = value;
      return this;
    }

    public Builder numRound(Integer value) {
      this.numRound = value;
      return this;
    }

    public Builder earlyStoppingRounds(Integer value) {
      this.earlyStoppingRounds = value;
      return this;
    }

    public Builder device(Device value) {
      this.device = value;
      return this;
    }

    public Builder numWorkers(Integer value) {
      this.numWorkers = value;
      return this;
    }

    public Builder nthread(Integer value) {
      this.nthread = value;
      return this;
    }

    public Builder threshold(Double value) {
      this.threshold = value;
      return this;
    }

    public Builder groupColumns(List<String> value) {
      this.groupColumns = value;
      return this;
    }

    public Builder minGroupRows(Integer value) {
      this.minGroupRows = value;
      return this;
    }

    public Builder tuning(TuningConfig value) {
      this.tuning = value;
      return this;
    }

    public TrainConfig build() {
      return new TrainConfig(
          features,
          model,
          task,
          label,
          featureColumns,
          key,
          seed,
          split,
          hyperparameters,
          numRound,
          earlyStoppingRounds,
          device,
          numWorkers,
          nthread,
          threshold,
          groupColumns,
          minGroupRows,
          tuning,
          algorithm,
          text);
    }
  }
}
