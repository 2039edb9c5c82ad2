package kiln.core.models;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.when;
import static org.apache.spark.sql.functions.xxhash64;

import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The deterministic split: a row's part (train, validation, test) depends only on the hash of its
 * key and the seed, so the same feature table version always gives the same test rows, on any
 * cluster. The one definition both the trainer and the feature statistics (train rows only) use.
 */
public final class Split {
  public static final String COLUMN = "kiln_split";
  public static final String TRAIN = "train";
  public static final String VALIDATION = "validation";
  public static final String TEST = "test";

  /** The seed of the split when none is given, in the feature and the training config alike. */
  public static final long DEFAULT_SEED = 42L;

  private static final long BUCKETS = 1_000_000L;

  private Split() {}

  public static Column part(String key, long seed, SplitFractions fractions) {
    Column unit = pmod(xxhash64(col(key), lit(seed)), lit(BUCKETS)).cast("double").divide(BUCKETS);
    return when(unit.lt(fractions.train()), TRAIN)
        .when(unit.lt(fractions.train() + fractions.validation()), VALIDATION)
        .otherwise(TEST);
  }

  /** True for the rows of the train part. */
  public static Column isTrain(String key, long seed, SplitFractions fractions) {
    return part(key, seed, fractions).equalTo(TRAIN);
  }

  /**
   * The split as one line, e.g. {@code key flight_id, seed 42, fractions 0.7/0.15/0.15}, for
   * messages.
   */
  public static String describe(String key, long seed, SplitFractions fractions) {
    return "key " + key + ", seed " + seed + ", fractions " + fractions.describe();
  }

  public static Dataset<Row> assign(
      Dataset<Row> rows, String key, long seed, SplitFractions fractions) {
    return rows.withColumn(COLUMN, part(key, seed, fractions));
  }

  public static Dataset<Row> test(
      Dataset<Row> rows, String key, long seed, SplitFractions fractions) {
    return rows.where(part(key, seed, fractions).equalTo(TEST));
  }
}
