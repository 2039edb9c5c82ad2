package kiln.drift;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import kiln.core.Errors;
import kiln.drift.internal.Bands;
import kiln.drift.internal.Chunker;
import org.apache.spark.ml.regression.IsotonicRegression;
import org.apache.spark.ml.regression.IsotonicRegressionModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;
import org.apache.spark.sql.functions;

/**
 * Confidence-based performance estimation (NannyML's CBPE) for a binary classifier's scores: the
 * scores are calibrated on a labelled reference with isotonic regression; per chunk the calibrated
 * probabilities give the expected ROC AUC (NannyML's estimator: rows ranked by score, each counting
 * as p of a positive and 1 - p of a negative) and the expected accuracy, precision, recall and F1
 * of the thresholded score (from the expected confusion counts). Unlike NannyML, Kiln always
 * calibrates (NannyML skips it when cross-validation says it does not help): isotonic calibration
 * of already calibrated scores changes them little.
 */
public final class Cbpe {
  public static final String ROC_AUC = "roc_auc";
  public static final String ACCURACY = "accuracy";
  public static final String PRECISION = "precision";
  public static final String RECALL = "recall";
  public static final String F1 = "f1";

  /** Every metric estimated, in the order reported. */
  public static final List<String> METRICS = List.of(ROC_AUC, ACCURACY, PRECISION, RECALL, F1);

  private static final String P = "__kiln_calibrated";
  private static final String Y = "__kiln_label";
  private static final String WEIGHT = "__kiln_weight";
  private static final String N = "__kiln_rows";
  private static final String POSITIVES = "__kiln_positives";
  private static final String NEGATIVES = "__kiln_negatives";
  private static final String LABELLED = "__kiln_labelled";
  private static final String CORRECT = "__kiln_correct";

  private final String score;
  private final String label;
  private final double threshold;
  private final IsotonicRegressionModel calibration;

  /**
   * Per metric NannyML's sampling-error components from the reference: {std, fraction}; a chunk of
   * n rows has the sampling error std / sqrt(n * fraction).
   */
  private final Map<String, double[]> samplingErrors;

  private Cbpe(
      String score,
      String label,
      double threshold,
      IsotonicRegressionModel calibration,
      Map<String, double[]> samplingErrors) {
    this.score = score;
    this.label = label;
    this.threshold = threshold;
    this.calibration = calibration;
    this.samplingErrors = samplingErrors;
  }

  /**
   * Calibrates on the reference's scores and labels (rows without either left out).
   *
   * @param threshold the score at or above which the classifier predicts class 1
   */
  public static Cbpe fit(Dataset<Row> reference, String score, String label, double threshold) {
    Objects.requireNonNull(reference, "reference is null");
    Objects.requireNonNull(score, "score is null");
    List<String> columns = List.of(reference.columns());
    if (!columns.contains(score)) {
      throw Errors.badInput(
          "the reference has no score column '" + score + "'",
          "score the reference with the model first; its columns are " + Errors.quoted(columns));
    }
    if (label == null || !columns.contains(label)) {
      throw Errors.badInput(
          "performance estimation needs a calibration reference with labels, and the reference has"
              + (label == null ? " no label column named" : " no label column '" + label + "'"),
          "use the model's test split as the reference (kiln drift --model without --reference),"
              + " or a reference table with the label column");
    }
    Dataset<Row> labelled =
        reference
            .where(col(score).isNotNull().and(col(label).isNotNull()))
            .select(col(score).cast("double").as(score), col(label).cast("double").as(Y));
    Row classes =
        labelled
            .agg(count(lit(1)), sum(col(Y)), sum(when(col(Y).isin(0.0, 1.0), 0).otherwise(1)))
            .first();
    long rows = classes.getLong(0);
    if (rows == 0 || classes.getDouble(1) == 0 || classes.getDouble(1) == rows) {
      throw Errors.badInput(
          "the calibration reference needs both classes of '"
              + label
              + "'; it has "
              + rows
              + " labelled rows, "
              + (rows == 0 ? 0 : (long) classes.getDouble(1))
              + " of them positive",
          "use a reference with both classes (the model's test split)");
    }
    if (classes.getLong(2) > 0) {
      throw Errors.badInput(
          "performance estimation is for binary classifiers: label '"
              + label
              + "' has "
              + classes.getLong(2)
              + " values other than 0 and 1",
          "use a binary classifier's 0/1 label, or leave performance estimation out");
    }
    // Spark's isotonic regression pools the rows of one score into their weighted mean label
    // before it runs, after sorting every row as a boxed tuple; pooling them here first, in a
    // hash aggregation, gives it the same points (one per distinct score, weighted by its rows)
    // at a fraction of the cost
    Dataset<Row> pooled =
        labelled
            .groupBy(col(score))
            .agg(avg(col(Y)).as(Y), count(lit(1)).cast("double").as(WEIGHT));
    IsotonicRegressionModel model =
        new IsotonicRegression()
            .setIsotonic(true)
            .setFeaturesCol(score)
            .setLabelCol(Y)
            .setWeightCol(WEIGHT)
            .setPredictionCol(P)
            .fit(pooled);
    return new Cbpe(score, label, threshold, model, samplingErrors(labelled, score, threshold));
  }

  /**
   * NannyML's sampling-error components (its {@code sampling_error.binary_classification}), from
   * the reference's raw scores and labels: accuracy, precision, recall and F1 from the confusion
   * counts (each the std of a 0/1 per-row value over the rows it counts, F1's scaled by its
   * correcting factor), ROC AUC from the share of negatives ranked below each positive.
   */
  private static Map<String, double[]> samplingErrors(
      Dataset<Row> labelled, String score, double threshold) {
    Column predicted = col(score).geq(threshold);
    Column positive = col(Y).equalTo(1.0);
    Row counts =
        labelled
            .agg(
                count(lit(1)),
                sum(when(predicted.and(positive), 1L).otherwise(0L)),
                sum(when(predicted.and(functions.not(positive)), 1L).otherwise(0L)),
                sum(when(functions.not(predicted).and(positive), 1L).otherwise(0L)))
            .first();
    double n = counts.getLong(0);
    double tp = counts.getLong(1);
    double fp = counts.getLong(2);
    double fn = counts.getLong(3);
    double tn = n - tp - fp - fn;
    Map<String, double[]> components = new HashMap<>();
    components.put(ACCURACY, new double[] {bernoulliStd(tp + tn, n), 1});
    components.put(PRECISION, new double[] {bernoulliStd(tp, tp + fp), (tp + fp) / n});
    components.put(RECALL, new double[] {bernoulliStd(tp, tp + fn), (tp + fn) / n});
    double relevant = tp + fn + fp;
    double correcting = relevant / ((fn + fp) * 0.5 + tp);
    components.put(F1, new double[] {correcting * bernoulliStd(tp, relevant), relevant / n});
    components.put(ROC_AUC, aucComponents(labelled, score, n, tp + fn));
    return components;
  }

  /** The population std of a vector of {@code ones} ones among {@code size} values. */
  private static double bernoulliStd(double ones, double size) {
    if (size == 0) {
      return Double.NaN;
    }
    double p = ones / size;
    return Math.sqrt(p * (1 - p));
  }

  /**
   * NannyML's {@code auroc_sampling_error_components}: with the minority class as positive (labels
   * and scores flipped when positives are over half), the rows sorted by score, each positive's
   * count of negatives below it over all negatives; its std, and the share of positives. As in
   * NannyML a positive ranked lowest of all is left out. One sort of the reference in a single
   * Spark task (a running count over the whole side), not a collect: a test split of millions of
   * rows stays off the driver.
   */
  private static double[] aucComponents(
      Dataset<Row> labelled, String score, double n, double positives) {
    boolean flip = positives * 2 > n;
    double minority = flip ? n - positives : positives;
    double negatives = n - minority;
    Column p = flip ? lit(1.0).minus(col(score)) : col(score);
    Column y = flip ? lit(1.0).minus(col(Y)) : col(Y);
    WindowSpec sorted = Window.orderBy(col("__kiln_p"));
    Row stats =
        labelled
            .select(p.as("__kiln_p"), y.as("__kiln_y"))
            .withColumn("__kiln_rank", functions.row_number().over(sorted))
            .withColumn(
                "__kiln_below",
                coalesce(
                    sum(when(col("__kiln_y").equalTo(0.0), 1L).otherwise(0L))
                        .over(sorted.rowsBetween(Window.unboundedPreceding(), -1)),
                    lit(0L)))
            .where(col("__kiln_y").equalTo(1.0).and(col("__kiln_rank").gt(1)))
            .agg(functions.stddev_pop(col("__kiln_below").divide(negatives)))
            .first();
    return new double[] {stats.isNullAt(0) ? Double.NaN : stats.getDouble(0), minority / n};
  }

  /** The sampling error of a metric's value on a chunk of {@code rows} rows. */
  private double samplingError(String metric, long rows) {
    double[] c = samplingErrors.get(metric);
    return c[0] / Math.sqrt(rows * c[1]);
  }

  /**
   * Estimated ROC AUC, accuracy, precision, recall and F1 per chunk of both sides (each with the
   * chunk column); the band is the reference chunks' realized metric &plusmn; 3 std.
   */
  public List<PerformanceEstimate> estimate(
      Dataset<Row> referenceChunks, Dataset<Row> currentChunks) {
    Map<String, Map<String, double[]>> reference = perChunk(referenceChunks);
    Map<String, Map<String, double[]>> current = perChunk(currentChunks);
    List<PerformanceEstimate> estimates = new ArrayList<>();
    for (String metric : METRICS) {
      List<ChunkValue> referenceValues =
          values(metric, reference.get(metric), Double.NaN, Double.NaN);
      double[] band =
          Bands.meanPlusMinus3Std(referenceValues.stream().mapToDouble(ChunkValue::realized));
      double lower = Math.max(0, band[0]);
      double upper = Math.min(1, band[1]);
      estimates.add(
          new PerformanceEstimate(
              metric,
              lower,
              upper,
              referenceValues,
              values(metric, current.get(metric), lower, upper)));
    }
    return estimates;
  }

  private List<ChunkValue> values(
      String metric, Map<String, double[]> chunks, double lower, double upper) {
    List<ChunkValue> values = new ArrayList<>();
    for (Map.Entry<String, double[]> e : new java.util.TreeMap<>(chunks).entrySet()) {
      double[] v = e.getValue();
      boolean alert = !Double.isNaN(lower) && (v[1] < lower || v[1] > upper);
      values.add(
          new ChunkValue(
              e.getKey(), (long) v[0], v[1], samplingError(metric, (long) v[0]), v[2], alert));
    }
    return values;
  }

  /**
   * metric -> chunk -> {rows, estimated, realized}. The rows of one chunk and one score share their
   * calibrated probability and predicted class, so they are pooled first (rows, positives,
   * negatives) and every sum and rank below runs over the distinct scores of a chunk, not its rows:
   * each sum is the per-row sum regrouped.
   */
  private Map<String, Map<String, double[]>> perChunk(Dataset<Row> chunked) {
    boolean labelled = List.of(chunked.columns()).contains(label);
    Column predicted = when(col(score).geq(threshold), 1.0).otherwise(0.0);
    Dataset<Row> pooled =
        chunked
            .where(col(score).isNotNull())
            .select(
                col(Chunker.CHUNK),
                col(score).cast("double").as(score),
                labelled ? col(label).cast("double").as(Y) : lit(null).cast("double").as(Y))
            .groupBy(col(Chunker.CHUNK), col(score))
            .agg(
                count(lit(1)).cast("double").as(N),
                sum(when(col(Y).equalTo(1.0), 1L).otherwise(0L)).as(POSITIVES),
                sum(when(col(Y).equalTo(0.0), 1L).otherwise(0L)).as(NEGATIVES),
                count(col(Y)).as(LABELLED),
                sum(when(col(Y).equalTo(predicted), 1L).otherwise(0L)).as(CORRECT));
    Dataset<Row> rows = calibration.transform(pooled).withColumn("__kiln_predicted", predicted);
    // the probability mass of the rows scored higher in the chunk (a score's own rows are
    // added below: among n tied rows each sees the ones before it, n(n-1)/2 pairs)
    WindowSpec higher =
        Window.partitionBy(Chunker.CHUNK)
            .orderBy(col(score).desc())
            .rowsBetween(Window.unboundedPreceding(), -1);
    // realized AUC: each positive counts the negatives scored below it, ties as half
    WindowSpec lower =
        Window.partitionBy(Chunker.CHUNK)
            .orderBy(col(score))
            .rowsBetween(Window.unboundedPreceding(), -1);
    Column rowsOf = col(N);
    Column predictedOne = col("__kiln_predicted").equalTo(1.0);
    Dataset<Row> enriched =
        rows.withColumn(
                "__kiln_above", coalesce(sum(rowsOf.multiply(col(P))).over(higher), lit(0.0)))
            .withColumn(
                "__kiln_pairs",
                // without labels there is no realized AUC: its window (one more sort of the
                // side's distinct scores) is left out
                labelled
                    ? col(POSITIVES)
                        .multiply(
                            coalesce(sum(col(NEGATIVES)).over(lower), lit(0L))
                                .plus(col(NEGATIVES).divide(2)))
                    : lit(null).cast("double"));
    Column correct = col(CORRECT);
    List<Row> result =
        enriched
            .groupBy(Chunker.CHUNK)
            .agg(
                sum(rowsOf).cast("long"),
                sum(rowsOf.multiply(col(P))),
                sum(
                    lit(1.0)
                        .minus(col(P))
                        .multiply(rowsOf)
                        .multiply(col("__kiln_above").plus(col(P).multiply(rowsOf).divide(2)))),
                sum(rowsOf.multiply(when(predictedOne, col(P)).otherwise(lit(1.0).minus(col(P)))))
                    .divide(sum(rowsOf)),
                sum(col("__kiln_pairs")),
                sum(col(POSITIVES)),
                sum(col(NEGATIVES)),
                when(sum(col(LABELLED)).gt(0), sum(correct).divide(sum(col(LABELLED)))),
                // expected confusion counts (NannyML's): a predicted 1 is a true positive with
                // probability p, a predicted 0 a false negative with probability p
                sum(when(predictedOne, rowsOf.multiply(col(P))).otherwise(0.0)),
                sum(when(predictedOne, rowsOf.multiply(lit(1.0).minus(col(P)))).otherwise(0.0)),
                sum(when(predictedOne, 0.0).otherwise(rowsOf.multiply(col(P)))),
                // realized confusion counts where labels exist
                sum(when(predictedOne, col(POSITIVES)).otherwise(0L)),
                sum(when(predictedOne, col(NEGATIVES)).otherwise(0L)),
                sum(when(predictedOne, 0L).otherwise(col(POSITIVES))))
            .collectAsList();
    Map<String, Map<String, double[]>> metrics = new HashMap<>();
    metrics.put(ROC_AUC, new HashMap<>());
    metrics.put(ACCURACY, new HashMap<>());
    metrics.put(PRECISION, new HashMap<>());
    metrics.put(RECALL, new HashMap<>());
    metrics.put(F1, new HashMap<>());
    for (Row row : result) {
      String chunk = row.getString(0);
      double n = row.getLong(1);
      double positives = row.getDouble(2);
      double negatives = n - positives;
      double estimatedAuc = row.getDouble(3) / (positives * negatives);
      double estimatedAccuracy = row.getDouble(4);
      long p = row.getLong(6);
      long q = row.getLong(7);
      double realizedAuc =
          p == 0 || q == 0 || row.isNullAt(5) ? Double.NaN : row.getDouble(5) / ((double) p * q);
      double realizedAccuracy = row.isNullAt(8) ? Double.NaN : row.getDouble(8);
      metrics.get(ROC_AUC).put(chunk, new double[] {n, estimatedAuc, realizedAuc});
      metrics.get(ACCURACY).put(chunk, new double[] {n, estimatedAccuracy, realizedAccuracy});
      double tp = row.getDouble(9);
      double fp = row.getDouble(10);
      double fn = row.getDouble(11);
      boolean labelledRows = p + q > 0;
      double rtp = labelledRows ? row.getLong(12) : Double.NaN;
      double rfp = labelledRows ? row.getLong(13) : Double.NaN;
      double rfn = labelledRows ? row.getLong(14) : Double.NaN;
      metrics
          .get(PRECISION)
          .put(chunk, new double[] {n, ratio(tp, tp + fp), ratio(rtp, rtp + rfp)});
      metrics.get(RECALL).put(chunk, new double[] {n, ratio(tp, tp + fn), ratio(rtp, rtp + rfn)});
      metrics
          .get(F1)
          .put(
              chunk,
              new double[] {
                n, ratio(2 * tp, 2 * tp + fp + fn), ratio(2 * rtp, 2 * rtp + rfp + rfn)
              });
    }
    return metrics;
  }

  /** NaN when the denominator is 0 (no predicted or no actual positives) or unknown. */
  private static double ratio(double numerator, double denominator) {
    return denominator > 0 ? numerator / denominator : Double.NaN;
  }
}
