package kiln.training;

import kiln.core.Errors;
import java.util.Objects;
import kiln.core.DatasetRef;
import kiln.core.models.Split;
import kiln.core.models.SplitFractions;

/**
 * What {@code kiln features} builds: the flights feature table from a version of the flights table.
 *
 * @param input the flights table, {@code TABLE[@VERSION]}; the latest version when none is given
 * @param output the feature table (Delta); every build is a new version of it
 * @param trainingUntil route and airport statistics use only flights before this date or timestamp
 *     (the training period), so that no later data leaks into them; all rows when absent
 * @param delayThresholdMinutes the label is {@code delay > delayThresholdMinutes} (default 15)
 * @param where keep only the feature rows matching this Spark SQL condition, e.g. the scoring period
 *     {@code date >= '2001-04-01'} (statistics still come from the training period); all rows when absent
 * @param seed seed of the train/validation/test split (default 42, as in {@link TrainConfig})
 * @param split shares of train, validation and test (default 0.7 / 0.15 / 0.15, as in {@link TrainConfig}):
 *     the statistics use only the train rows of this split, so that no validation or test label leaks into
 *     the features it is evaluated with; {@code kiln train} refuses a training config with another split
 */
public record FeatureConfig(String input, String output, String trainingUntil, Integer delayThresholdMinutes,
    String where, Long seed, SplitFractions split) {
  public static final int DEFAULT_DELAY_THRESHOLD_MINUTES = 15;

  public FeatureConfig {
    Objects.requireNonNull(input, "input is missing: give the flights table, e.g. input: /data/flights@0");
    Objects.requireNonNull(output, "output is missing: give the feature table to write, e.g. output: /data/features");
    DatasetRef.parse(input);
    if (DatasetRef.parse(output).version() != null || DatasetRef.parse(output).timestamp() != null) {
      throw Errors.badInput("output '" + output + "' names a version; give the table only", "correct the feature config (--config)");
    }
    if (trainingUntil != null && !trainingUntil.matches("\\d{4}-\\d{2}-\\d{2}([ T]\\d{2}:\\d{2}(:\\d{2})?)?")) {
      throw Errors.badInput("trainingUntil '" + trainingUntil + "' is not a date such as 2001-04-01", "correct the feature config (--config)");
    }
    if (where != null && where.isBlank()) {
      where = null;
    }
    if (delayThresholdMinutes == null) {
      delayThresholdMinutes = DEFAULT_DELAY_THRESHOLD_MINUTES;
    }
    seed = seed == null ? Split.DEFAULT_SEED : seed;
    split = split == null ? SplitFractions.DEFAULT : split;
  }

  /** With the default split. */
  public FeatureConfig(String input, String output, String trainingUntil, Integer delayThresholdMinutes,
      String where) {
    this(input, output, trainingUntil, delayThresholdMinutes, where, null, null);
  }

  public FeatureConfig(String input, String output, String trainingUntil, Integer delayThresholdMinutes) {
    this(input, output, trainingUntil, delayThresholdMinutes, null);
  }

  public DatasetRef inputRef() {
    return DatasetRef.parse(input);
  }
}
