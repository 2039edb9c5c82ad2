package kiln.training;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.PinnedTable;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import kiln.core.tracking.MlflowTracking;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Builds a new version of the feature table a {@link FeatureConfig} declares, from a pinned input
 * version.
 */
public final class FeatureJob {
  /**
   * Commit metadata keys: the training code reads them back to tag models with their source data.
   */
  public static final String INPUT_TABLE = "kiln.input.table";

  public static final String INPUT_VERSION = "kiln.input.version";
  public static final String TRAINING_PERIOD = "kiln.trainingPeriod";

  /** The split whose train rows the statistics come from: training must split the same way. */
  public static final String SPLIT_KEY = "kiln.split.key";

  public static final String SPLIT_SEED = "kiln.split.seed";
  public static final String SPLIT_FRACTIONS = "kiln.split.fractions";

  private final SparkSession spark;

  public FeatureJob(SparkSession spark) {
    this.spark = spark;
  }

  public FeatureResult run(FeatureConfig config) {
    long started = System.nanoTime();
    Datasets datasets = new Datasets(spark);
    PinnedTable table = datasets.pin(config.inputRef());
    DatasetRef input = table.ref();
    Dataset<Row> features =
        Features.kept(Features.build(table.rows(), "input table " + input, config), config);
    Map<String, String> metadata = new LinkedHashMap<>();
    metadata.put(INPUT_TABLE, input.table());
    metadata.put(INPUT_VERSION, String.valueOf(input.version()));
    if (config.trainingPeriod() != null) {
      metadata.put(TRAINING_PERIOD, config.trainingPeriod());
    }
    metadata.put(SPLIT_KEY, config.key());
    metadata.put(SPLIT_SEED, String.valueOf(config.seed()));
    metadata.put(SPLIT_FRACTIONS, config.split().describe());
    if (config.where() != null) {
      metadata.put("kiln.where", config.where());
    }
    // the same config over the same input version builds the same table: when the table's latest
    // version is that build, a re-run (a scheduler's retry, a day run twice) writes nothing
    String key = "features:" + MlflowTracking.digest(config.toString()) + ":" + input;
    WriteResult written =
        datasets.write(
            features, config.output(), new WriteOptions(WriteMode.OVERWRITE, key, metadata));
    return new FeatureResult(
        input, written.written(), written.rows(), Duration.ofNanos(System.nanoTime() - started));
  }
}
