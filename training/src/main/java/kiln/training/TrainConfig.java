package kiln.training;

import kiln.core.Errors;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import kiln.core.DatasetRef;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;
import kiln.core.models.Task;

/**
 * What {@code kiln train} trains. Defaults are filled in here, in one place.
 *
 * @param features the feature table, {@code TABLE[@VERSION]}
 * @param model the registered model name the new version goes to
 * @param task classifier (default) or regressor
 * @param label the label column (default {@code label}; e.g. {@code delay} for a regressor)
 * @param featureColumns the numeric columns to train on (default: the flights features)
 * @param key the column the split hashes (default {@code flight_id})
 * @param seed seed of the split and of XGBoost (default 42); must be the feature table's split seed
 * @param split shares of train, validation and test (default 0.7 / 0.15 / 0.15); must be the feature table's
 * @param hyperparameters XGBoost parameters by their XGBoost names, e.g. max_depth, eta; unknown names are refused
 * @param numRound boosting rounds at most (default 100)
 * @param earlyStoppingRounds stop when the validation metric has not improved for this many rounds (default 10)
 * @param device auto (default), cpu or cuda
 * @param numWorkers XGBoost workers (default: Spark's default parallelism)
 * @param nthread threads per worker (default: spark.task.cpus; never more)
 * @param threshold the probability from which a classifier predicts 1 (default 0.5)
 * @param groupColumns columns whose groups get their own metrics and the largest gap (e.g. origin)
 * @param minGroupRows groups with fewer test rows are left out of the gap (default 100)
 * @param tuning a hyperparameter search; the best trial is registered (none by default)
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
    TuningConfig tuning) {

  public TrainConfig {
    Objects.requireNonNull(features, "features is missing: give the feature table, e.g. features: /data/features@0");
    Objects.requireNonNull(model, "model is missing: give the registered model name, e.g. model: flight-delays");
    DatasetRef.parse(features);
    if (!model.matches("[A-Za-z0-9][A-Za-z0-9_.-]*")) {
      throw Errors.badInput("model name '" + model + "' may hold only letters, digits, '_', '.', '-'", "correct the training config (--config)");
    }
    task = task == null ? Task.CLASSIFIER : task;
    label = label == null ? FlightFeatures.LABEL : label;
    featureColumns = featureColumns == null ? FlightFeatures.FEATURE_COLUMNS : List.copyOf(featureColumns);
    if (featureColumns.isEmpty()) {
      throw Errors.badInput("featureColumns is empty; list the columns to train on", "correct the training config (--config)");
    }
    if (featureColumns.contains(label)) {
      throw Errors.badInput("featureColumns contains the label '" + label + "'", "correct the training config (--config)");
    }
    key = key == null ? FlightFeatures.KEY : key;
    seed = seed == null ? Split.DEFAULT_SEED : seed;
    split = split == null ? SplitFractions.DEFAULT : split;
    hyperparameters = hyperparameters == null ? Map.of() : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(hyperparameters));
    numRound = numRound == null ? 100 : numRound;
    earlyStoppingRounds = earlyStoppingRounds == null ? 10 : earlyStoppingRounds;
    if (numRound < 1 || earlyStoppingRounds < 0) {
      throw Errors.badInput("numRound must be at least 1 and earlyStoppingRounds at least 0", "correct the training config (--config)");
    }
    device = device == null ? Device.AUTO : device;
    if (numWorkers != null && numWorkers < 1 || nthread != null && nthread < 1) {
      throw Errors.badInput("numWorkers and nthread must be at least 1", "correct the training config (--config)");
    }
    threshold = threshold == null ? 0.5 : threshold;
    if (threshold <= 0 || threshold >= 1) {
      throw Errors.badInput("threshold " + threshold + " must lie between 0 and 1", "correct the training config (--config)");
    }
    groupColumns = groupColumns == null ? List.of() : List.copyOf(groupColumns);
    minGroupRows = minGroupRows == null ? 100 : minGroupRows;
  }

  /** The same training without a search, e.g. with the tuning's fixed values. */
  public TrainConfig(String features, String model, Task task, String label, List<String> featureColumns, String key,
      Long seed, SplitFractions split, Map<String, Object> hyperparameters, Integer numRound, Integer earlyStoppingRounds,
      Device device, Integer numWorkers, Integer nthread, Double threshold, List<String> groupColumns,
      Integer minGroupRows) {
    this(features, model, task, label, featureColumns, key, seed, split, hyperparameters, numRound, earlyStoppingRounds,
        device, numWorkers, nthread, threshold, groupColumns, minGroupRows, null);
  }

  public DatasetRef featuresRef() {
    return DatasetRef.parse(features);
  }

  /** A copy with other hyperparameters (tuning trials). */
  public TrainConfig withHyperparameters(Map<String, Object> values) {
    return new TrainConfig(features, model, task, label, featureColumns, key, seed, split, values, numRound,
        earlyStoppingRounds, device, numWorkers, nthread, threshold, groupColumns, minGroupRows, null);
  }
}
