package kiln.training;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.models.ModelFiles;
import kiln.core.models.Task;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * Test-set metrics from a scored frame (the label and {@value #SCORE}: the probability of class 1
 * for a classifier, the prediction for a regressor), overall and per group, with DataFrame
 * aggregations only.
 *
 * <p>The rows are read once, in one Spark job: a classifier's are counted per part, group and
 * distinct score (positives, negatives, log-loss), and every statistic (confusion, log-loss,
 * calibration, exact AUC-ROC, AUC-PR) is computed from those counts, which is all the statistics
 * need.
 */
public final class Evaluation {
  public static final String SCORE = ModelFiles.SCORE;
  private static final double EPSILON = 1e-15;
  private static final int CALIBRATION_BINS = 10;

  /**
   * Spark's {@code BinaryClassificationEvaluator} default: AUC-PR down-samples to about this many
   * thresholds.
   */
  private static final int PR_BINS = 1000;

  private static final String OVERALL = "all";

  /**
   * @param metrics overall metrics by name
   * @param groups per group column, per group value, the group's metrics
   * @param gaps per group column, the largest difference of the primary metric between two groups
   */
  public record Result(
      Map<String, Double> metrics,
      Map<String, Map<String, Map<String, Double>>> groups,
      Map<String, Double> gaps) {
    public Result {
      metrics = Map.copyOf(metrics);
      groups = Map.copyOf(groups);
      gaps = Map.copyOf(gaps);
    }

    /** The largest gap over every group column; 0 without groups. */
    public double largestGap() {
      return gaps.values().stream().mapToDouble(Double::doubleValue).max().orElse(0);
    }
  }

  /**
   * The results of several parts of one scored frame, and how long the one pass over its rows took.
   *
   * @param parts the result of each part asked for (a part without rows has {@code rows} 0 and NaN
   *     metrics)
   * @param rows the rows of every part asked for
   * @param scanNanos the time of the one Spark job that reads the scored rows and computes the
   *     statistics (the scoring included when the frame is a model's output)
   */
  record Parts(Map<String, Result> parts, long rows, long scanNanos) {}

  private Evaluation() {}

  public static Result evaluate(
      Dataset<Row> scored,
      Task task,
      String label,
      double threshold,
      List<String> groupColumns,
      int minGroupRows) {
    return evaluate(
            scored,
            lit(OVERALL),
            List.of(OVERALL),
            OVERALL,
            task,
            label,
            threshold,
            groupColumns,
            minGroupRows)
        .parts()
        .get(OVERALL);
  }

  /**
   * Evaluates each value of {@code part} in {@code parts} (rows of other parts are ignored), with
   * the groups of {@code groupColumns} for {@code groupedPart} only, in one pass over {@code
   * scored}.
   */
  static Parts evaluate(
      Dataset<Row> scored,
      Column part,
      List<String> parts,
      String groupedPart,
      Task task,
      String label,
      double threshold,
      List<String> groupColumns,
      int minGroupRows) {
    Dataset<Row> keyed = keyed(scored, part, parts, groupedPart, label, groupColumns);
    long started = System.nanoTime();
    Map<Key, Map<String, Double>> byKey =
        task == Task.CLASSIFIER
            ? classifierMetrics(counts(keyed, label), threshold)
            : regressorMetrics(keyed, label);
    long scanNanos = System.nanoTime() - started;
    long rows = 0;
    Map<String, Result> results = new LinkedHashMap<>();
    for (String name : parts) {
      Map<String, Double> metrics = byKey.getOrDefault(new Key(name, null, null), empty(task));
      rows += metrics.get("rows").longValue();
      Map<String, Map<String, Map<String, Double>>> groups = new LinkedHashMap<>();
      Map<String, Double> gaps = new LinkedHashMap<>();
      if (name.equals(groupedPart)) {
        for (String group : groupColumns) {
          Map<String, Map<String, Double>> byValue = new TreeMap<>();
          byKey.forEach(
              (key, values) -> {
                if (key.part().equals(name) && group.equals(key.dimension())) {
                  byValue.put(key.value(), values);
                }
              });
          groups.put(group, byValue);
          gaps.put(group, gap(byValue, task.primaryMetric(), minGroupRows));
        }
      }
      results.put(name, new Result(metrics, groups, gaps));
    }
    return new Parts(results, rows, scanNanos);
  }

  /**
   * The largest difference of {@code primary} between two groups of at least {@code minGroupRows}
   * rows.
   */
  private static double gap(
      Map<String, Map<String, Double>> byValue, String primary, int minGroupRows) {
    List<Double> values = new ArrayList<>();
    byValue
        .values()
        .forEach(
            m -> {
              if (m.get("rows") >= minGroupRows
                  && m.get(primary) != null
                  && !m.get(primary).isNaN()) {
                values.add(m.get(primary));
              }
            });
    return values.size() < 2
        ? 0.0
        : values.stream().mapToDouble(Double::doubleValue).max().orElse(0)
            - values.stream().mapToDouble(Double::doubleValue).min().orElse(0);
  }

  /**
   * A part, a group column (null: every row of the part) and its value (null when the column is).
   */
  private record Key(String part, String dimension, String value) {}

  private static Key key(Row row) {
    return new Key(
        row.getString(0),
        row.isNullAt(1) ? null : row.getString(1),
        row.isNullAt(1) ? null : String.valueOf(row.get(2)));
  }

  /**
   * One row per row of the parts asked for and per key it counts under: the part as a whole ({@code
   * kiln_dimension} null) and, in {@code groupedPart}, its value of each group column.
   */
  private static Dataset<Row> keyed(
      Dataset<Row> scored,
      Column part,
      List<String> parts,
      String groupedPart,
      String label,
      List<String> groupColumns) {
    Column partName = part.cast("string");
    Column overall =
        struct(lit(null).cast("string").as("dimension"), lit(null).cast("string").as("value"));
    List<Column> grouped = new ArrayList<>(List.of(overall));
    groupColumns.forEach(
        g -> grouped.add(struct(lit(g).as("dimension"), col(g).cast("string").as("value"))));
    Column keys =
        groupColumns.isEmpty()
            ? array(overall)
            : when(partName.equalTo(groupedPart), array(grouped.toArray(new Column[0])))
                .otherwise(array(overall));
    return scored
        .where(partName.isin(parts.toArray()))
        .select(
            partName.as("kiln_part"),
            explode(keys).as("kiln_key"),
            col(label).as("kiln_label"),
            col(SCORE).as("kiln_at"))
        .select(
            col("kiln_part"),
            col("kiln_key.dimension").as("kiln_dimension"),
            col("kiln_key.value").as("kiln_value"),
            col("kiln_label"),
            col("kiln_at"));
  }

  // ---- classifier

  /**
   * Per part, group and distinct score: rows, positives (label 1), zeros (label 0), the sum and
   * count of the rows' log-loss and of their labels. Every classifier statistic is a function of
   * these counts.
   */
  private static Dataset<Row> counts(Dataset<Row> keyed, String label) {
    Column y = col("kiln_label");
    Column p = least(greatest(col("kiln_at"), lit(EPSILON)), lit(1 - EPSILON));
    Column loss =
        y.multiply(log(p)).plus(lit(1.0).minus(y).multiply(log(lit(1.0).minus(p)))).multiply(-1);
    return keyed
        .groupBy(col("kiln_part"), col("kiln_dimension"), col("kiln_value"), col("kiln_at"))
        .agg(
            count(lit(1)).as("rows"),
            sum(when(y.equalTo(1.0), 1L).otherwise(0L)).as("positives"),
            sum(when(y.equalTo(0.0), 1L).otherwise(0L)).as("zeros"),
            sum(loss).as("loss_sum"),
            count(loss).as("loss_rows"),
            sum(y.cast("double")).as("label_sum"),
            count(y).as("label_rows"));
  }

  /**
   * Every classifier statistic of every key, from one Spark job: the counts per distinct score,
   * ordered per key (one window: the negatives below each score for the exact AUC-ROC, the position
   * from the highest score for AUC-PR's bins), then summed per key, predicted class, calibration
   * bin and AUC-PR bin: a few thousand rows, which the driver turns into the metrics.
   */
  private static Map<Key, Map<String, Double>> classifierMetrics(
      Dataset<Row> counts, double threshold) {
    Column at = col("kiln_at");
    Column scored = at.isNotNull();
    Column negativesAt = when(scored, col("rows").minus(col("positives"))).otherwise(0L);
    WindowSpec byScore =
        Window.partitionBy(col("kiln_part"), col("kiln_dimension"), col("kiln_value")).orderBy(at);
    Column distinctScores =
        count(at)
            .over(byScore.rowsBetween(Window.unboundedPreceding(), Window.unboundedFollowing()));
    Column atOrBelow =
        count(at).over(byScore.rowsBetween(Window.unboundedPreceding(), Window.currentRow()));
    Dataset<Row> ordered =
        counts.select(
            col("*"),
            negativesAt.as("negatives_at"),
            coalesce(
                    sum(negativesAt).over(byScore.rowsBetween(Window.unboundedPreceding(), -1)),
                    lit(0L))
                .as("negatives_below"),
            distinctScores.as("distinct_scores"),
            atOrBelow.as("at_or_below"));
    // Spark's AUC-PR grouping: with N distinct scores, N / 1000 consecutive ones per bin once that
    // is 2 or more
    Column perBin = floor(col("distinct_scores").divide(PR_BINS));
    Column grouping = when(perBin.geq(2), perBin).otherwise(lit(1L));
    Column overall = col("kiln_dimension").isNull().and(scored);
    Column prBin =
        when(overall, floor(col("distinct_scores").minus(col("at_or_below")).divide(grouping)));
    Column calibrationBin =
        when(
            overall, least(floor(at.multiply(CALIBRATION_BINS)), lit((long) CALIBRATION_BINS - 1)));
    Column predicted = coalesce(at.geq(threshold), lit(false));
    List<Row> rows =
        ordered
            .groupBy(
                col("kiln_part"),
                col("kiln_dimension"),
                col("kiln_value"),
                predicted.as("predicted"),
                calibrationBin.as("calibration_bin"),
                prBin.as("pr_bin"))
            .agg(
                sum("rows"),
                sum("positives"),
                sum("zeros"),
                sum("loss_sum"),
                sum("loss_rows"),
                sum("label_sum"),
                sum("label_rows"),
                sum(at.multiply(col("rows"))),
                sum(
                    col("positives")
                        .multiply(col("negatives_below").multiply(2).plus(col("negatives_at")))),
                sum(when(scored, col("positives")).otherwise(0L)),
                sum("negatives_at"))
            .collectAsList();

    Map<Key, double[]> confusion = new HashMap<>();
    Map<Key, double[][]> calibration = new HashMap<>();
    Map<Key, TreeMap<Long, double[]>> precisionRecall = new HashMap<>();
    for (Row row : rows) {
      Key key = key(row);
      boolean positive = row.getBoolean(3);
      double count = row.getLong(6);
      double positives = row.getLong(7);
      double zeros = row.getLong(8);
      // rows, tp, fp, fn, tn, log-loss sum, log-loss rows, twice the AUC wins, scored positives,
      // scored negatives
      double[] c = confusion.computeIfAbsent(key, k -> new double[10]);
      c[0] += count;
      c[positive ? 1 : 3] += positives;
      c[positive ? 2 : 4] += zeros;
      c[5] += row.isNullAt(9) ? 0 : row.getDouble(9);
      c[6] += row.getLong(10);
      c[7] += row.getLong(14);
      c[8] += row.getLong(15);
      c[9] += row.getLong(16);
      if (!row.isNullAt(4)) {
        double[] bin =
            calibration
                .computeIfAbsent(key, k -> new double[CALIBRATION_BINS][4])[(int) row.getLong(4)];
        bin[0] += count;
        bin[1] += row.getDouble(13);
        bin[2] += row.isNullAt(11) ? 0 : row.getDouble(11);
        bin[3] += row.getLong(12);
      }
      if (!row.isNullAt(5)) {
        double[] bin =
            precisionRecall
                .computeIfAbsent(key, k -> new TreeMap<>())
                .computeIfAbsent(row.getLong(5), b -> new double[2]);
        bin[0] += row.getLong(15);
        bin[1] += row.getLong(16);
      }
    }
    Map<Key, Map<String, Double>> metrics = new HashMap<>();
    confusion.forEach(
        (key, c) -> {
          Map<String, Double> m =
              fromConfusion(c[0], c[1], c[2], c[3], c[4], c[6] == 0 ? Double.NaN : c[5] / c[6]);
          // the Mann-Whitney U over the number of (positive, negative) pairs; twice U is an
          // integer, summed exactly
          m.put("auc_roc", c[8] == 0 || c[9] == 0 ? Double.NaN : c[7] / 2.0 / (c[8] * c[9]));
          if (key.dimension() == null) {
            TreeMap<Long, double[]> bins = precisionRecall.get(key);
            m.put("auc_pr", bins == null ? Double.NaN : areaUnderPrecisionRecall(bins.values()));
            m.put("calibration_error", calibrationError(calibration.get(key)));
          }
          metrics.put(key, m);
        });
    return metrics;
  }

  /**
   * AUC-PR as Spark's {@code BinaryClassificationEvaluator} computes it when its sorted scores are
   * in one partition: bins of thresholds from the highest score down, precision and recall at each,
   * the curve starting at recall 0 with the first precision, trapezoids between the points.
   * (Spark's own result depends on how its sorted scores are partitioned once it bins; this one
   * does not.)
   */
  static double areaUnderPrecisionRecall(Iterable<double[]> binsFromHighest) {
    double totalPositives = 0;
    for (double[] bin : binsFromHighest) {
      totalPositives += bin[0];
    }
    double truePositives = 0;
    double falsePositives = 0;
    double area = 0;
    double recall = 0;
    double precision = Double.NaN;
    for (double[] bin : binsFromHighest) {
      truePositives += bin[0];
      falsePositives += bin[1];
      double nextPrecision =
          truePositives + falsePositives == 0
              ? 1.0
              : truePositives / (truePositives + falsePositives);
      double nextRecall = totalPositives == 0 ? 0.0 : truePositives / totalPositives;
      if (Double.isNaN(precision)) {
        precision = nextPrecision;
      }
      area += (nextRecall - recall) * (nextPrecision + precision) / 2.0;
      recall = nextRecall;
      precision = nextPrecision;
    }
    return Double.isNaN(precision) ? Double.NaN : area;
  }

  /**
   * Expected calibration error over ten equal-width probability bins: n, sum of scores, sum and
   * count of labels.
   */
  private static double calibrationError(double[][] bins) {
    if (bins == null) {
      return Double.NaN;
    }
    double weighted = 0;
    double rows = 0;
    for (double[] bin : bins) {
      if (bin[0] == 0) {
        continue;
      }
      double confidence = bin[1] / bin[0];
      double observed = bin[3] == 0 ? Double.NaN : bin[2] / bin[3];
      weighted += Math.abs(confidence - observed) * bin[0];
      rows += bin[0];
    }
    return rows == 0 ? Double.NaN : weighted / rows;
  }

  private static Map<String, Double> fromConfusion(
      double rows, double tp, double fp, double fn, double tn, double logLoss) {
    double precision = tp + fp == 0 ? 0 : tp / (tp + fp);
    double recall = tp + fn == 0 ? 0 : tp / (tp + fn);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", rows);
    metrics.put("accuracy", rows == 0 ? Double.NaN : (tp + tn) / rows);
    metrics.put("precision", precision);
    metrics.put("recall", recall);
    metrics.put("f1", precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
    metrics.put("log_loss", logLoss);
    metrics.put("positive_rate", rows == 0 ? Double.NaN : (tp + fn) / rows);
    return metrics;
  }

  // ---- regressor

  private static Map<Key, Map<String, Double>> regressorMetrics(Dataset<Row> keyed, String label) {
    Column error = col("kiln_at").minus(col("kiln_label"));
    Map<Key, Map<String, Double>> metrics = new HashMap<>();
    for (Row row :
        keyed
            .groupBy(col("kiln_part"), col("kiln_dimension"), col("kiln_value"))
            .agg(
                count(lit(1)).as("rows"),
                avg(error.multiply(error)).as("mse"),
                avg(abs(error)).as("mae"),
                avg(col("kiln_label")).as("mean"),
                avg(col("kiln_label").multiply(col("kiln_label"))).as("mean_square"))
            .collectAsList()) {
      metrics.put(
          key(row),
          fromRegression(
              row.getLong(3),
              row.isNullAt(4) ? Double.NaN : row.getDouble(4),
              row.isNullAt(5) ? Double.NaN : row.getDouble(5),
              row.isNullAt(6)
                  ? Double.NaN
                  : row.getDouble(7) - row.getDouble(6) * row.getDouble(6)));
    }
    return metrics;
  }

  private static Map<String, Double> fromRegression(
      double rows, double mse, double mae, double variance) {
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", rows);
    metrics.put("rmse", Math.sqrt(mse));
    metrics.put("mae", mae);
    metrics.put("r2", variance > 0 ? 1 - mse / variance : Double.NaN);
    return metrics;
  }

  private static Map<String, Double> empty(Task task) {
    if (task == Task.REGRESSOR) {
      return fromRegression(0, Double.NaN, Double.NaN, Double.NaN);
    }
    Map<String, Double> metrics = fromConfusion(0, 0, 0, 0, 0, Double.NaN);
    metrics.put("auc_roc", Double.NaN);
    metrics.put("auc_pr", Double.NaN);
    metrics.put("calibration_error", Double.NaN);
    return metrics;
  }

  /**
   * The exact AUC-ROC per value of {@code group}: the Mann-Whitney U of the positives' scores
   * against the negatives', a tie counted as one half, over the number of such pairs (NaN for a
   * group without both classes). Rows without a score are left out.
   */
  static Map<String, Double> aucRoc(Dataset<Row> scored, String label, Column group) {
    Dataset<Row> keyed =
        scored.select(
            group.cast("string").as("kiln_part"),
            lit(null).cast("string").as("kiln_dimension"),
            lit(null).cast("string").as("kiln_value"),
            col(label).as("kiln_label"),
            col(SCORE).as("kiln_at"));
    Map<String, Double> auc = new TreeMap<>();
    classifierMetrics(counts(keyed, label), 0.5)
        .forEach((key, metrics) -> auc.put(key.part(), metrics.get("auc_roc")));
    return auc;
  }
}
