package kiln.training;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.models.ModelFiles;
import kiln.core.models.Task;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.sql.expressions.WindowSpec;

/**
 * Test-set metrics from a scored frame (the label and {@value #SCORE}: the probability of class 1 for a
 * classifier, the prediction for a regressor), overall and per group, with DataFrame aggregations only.
 */
public final class Evaluation {
  public static final String SCORE = ModelFiles.SCORE;
  private static final double EPSILON = 1e-15;
  private static final int CALIBRATION_BINS = 10;

  /**
   * @param metrics overall metrics by name
   * @param groups per group column, per group value, the group's metrics
   * @param gaps per group column, the largest difference of the primary metric between two groups
   */
  public record Result(Map<String, Double> metrics, Map<String, Map<String, Map<String, Double>>> groups,
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

  private Evaluation() {}

  public static Result evaluate(Dataset<Row> scored, Task task, String label, double threshold,
      List<String> groupColumns, int minGroupRows) {
    Map<String, Double> metrics = task == Task.CLASSIFIER
        ? classifierMetrics(scored, label, threshold) : regressorMetrics(scored, label);
    Map<String, Map<String, Map<String, Double>>> groups = new LinkedHashMap<>();
    Map<String, Double> gaps = new LinkedHashMap<>();
    String primary = task.primaryMetric();
    for (String group : groupColumns) {
      Map<String, Map<String, Double>> byValue = groupMetrics(scored, task, label, threshold, group);
      groups.put(group, byValue);
      List<Double> values = new ArrayList<>();
      byValue.values().forEach(m -> {
        if (m.get("rows") >= minGroupRows && m.get(primary) != null && !m.get(primary).isNaN()) {
          values.add(m.get(primary));
        }
      });
      gaps.put(group, values.size() < 2 ? 0.0
          : values.stream().mapToDouble(Double::doubleValue).max().orElse(0)
              - values.stream().mapToDouble(Double::doubleValue).min().orElse(0));
    }
    return new Result(metrics, groups, gaps);
  }

  static Map<String, Double> classifierMetrics(Dataset<Row> scored, String label, double threshold) {
    Row row = aggregate(scored, confusion(label, threshold));
    Map<String, Double> metrics = fromConfusion(row);
    BinaryClassificationEvaluator evaluator = new BinaryClassificationEvaluator()
        .setLabelCol(label).setRawPredictionCol(SCORE);
    // Not Spark's areaUnderROC: BinaryClassificationEvaluator (numBins 1000) merges the sorted distinct scores
    // into about 1000 bins once there are 2000 or more of them, so its AUC then only approximates the exact one
    // that the groups get; the same exact statistic here keeps the overall and the per-group values comparable.
    metrics.put("auc_roc", aucRoc(scored, label, lit("all")).getOrDefault("all", Double.NaN));
    // AUC-PR has no tie-exact counterpart in common use: Spark's (binned, linear between points) is kept
    metrics.put("auc_pr", evaluator.setMetricName("areaUnderPR").evaluate(scored));
    metrics.put("calibration_error", calibrationError(scored, label));
    return metrics;
  }

  /** Expected calibration error over ten equal-width probability bins. */
  static double calibrationError(Dataset<Row> scored, String label) {
    Column bin = least(floor(col(SCORE).multiply(CALIBRATION_BINS)), lit(CALIBRATION_BINS - 1));
    double weighted = 0;
    long rows = 0;
    for (Row bucket : scored.groupBy(bin.as("bin"))
        .agg(count(lit(1)).as("n"), avg(col(SCORE)).as("confidence"), avg(col(label).cast("double")).as("observed"))
        .collectAsList()) {
      long n = bucket.getLong(1);
      weighted += Math.abs(bucket.getDouble(2) - bucket.getDouble(3)) * n;
      rows += n;
    }
    return rows == 0 ? Double.NaN : weighted / rows;
  }

  private static Column[] confusion(String label, double threshold) {
    Column y = col(label);
    Column predicted = when(col(SCORE).geq(threshold), 1.0).otherwise(0.0);
    Column p = least(greatest(col(SCORE), lit(EPSILON)), lit(1 - EPSILON));
    return new Column[] {
        count(lit(1)).as("rows"),
        sum(when(predicted.equalTo(1.0).and(y.equalTo(1.0)), 1).otherwise(0)).as("tp"),
        sum(when(predicted.equalTo(1.0).and(y.equalTo(0.0)), 1).otherwise(0)).as("fp"),
        sum(when(predicted.equalTo(0.0).and(y.equalTo(1.0)), 1).otherwise(0)).as("fn"),
        sum(when(predicted.equalTo(0.0).and(y.equalTo(0.0)), 1).otherwise(0)).as("tn"),
        avg(y.multiply(log(p)).plus(lit(1.0).minus(y).multiply(log(lit(1.0).minus(p)))).multiply(-1)).as("log_loss")
    };
  }

  private static Map<String, Double> fromConfusion(Row row) {
    double rows = row.getLong(row.fieldIndex("rows"));
    double tp = row.getLong(row.fieldIndex("tp"));
    double fp = row.getLong(row.fieldIndex("fp"));
    double fn = row.getLong(row.fieldIndex("fn"));
    double tn = row.getLong(row.fieldIndex("tn"));
    double precision = tp + fp == 0 ? 0 : tp / (tp + fp);
    double recall = tp + fn == 0 ? 0 : tp / (tp + fn);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", rows);
    metrics.put("accuracy", rows == 0 ? Double.NaN : (tp + tn) / rows);
    metrics.put("precision", precision);
    metrics.put("recall", recall);
    metrics.put("f1", precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall));
    metrics.put("log_loss", row.isNullAt(row.fieldIndex("log_loss")) ? Double.NaN : row.getDouble(row.fieldIndex("log_loss")));
    metrics.put("positive_rate", rows == 0 ? Double.NaN : (tp + fn) / rows);
    return metrics;
  }

  static Map<String, Double> regressorMetrics(Dataset<Row> scored, String label) {
    Row row = aggregate(scored, regression(label));
    return fromRegression(row);
  }

  private static Column[] regression(String label) {
    Column error = col(SCORE).minus(col(label));
    return new Column[] {
        count(lit(1)).as("rows"),
        avg(error.multiply(error)).as("mse"),
        avg(abs(error)).as("mae"),
        avg(col(label)).as("mean"),
        avg(col(label).multiply(col(label))).as("mean_square")
    };
  }

  private static Map<String, Double> fromRegression(Row row) {
    double rows = row.getLong(0);
    double mse = row.isNullAt(1) ? Double.NaN : row.getDouble(1);
    double variance = row.isNullAt(3) ? Double.NaN : row.getDouble(4) - row.getDouble(3) * row.getDouble(3);
    Map<String, Double> metrics = new LinkedHashMap<>();
    metrics.put("rows", rows);
    metrics.put("rmse", Math.sqrt(mse));
    metrics.put("mae", row.isNullAt(2) ? Double.NaN : row.getDouble(2));
    metrics.put("r2", variance > 0 ? 1 - mse / variance : Double.NaN);
    return metrics;
  }

  /** Metrics per value of {@code group}; a classifier's AUC-ROC as in {@link #aucRoc}. */
  static Map<String, Map<String, Double>> groupMetrics(Dataset<Row> scored, Task task, String label, double threshold,
      String group) {
    Column key = col(group).cast("string");
    Map<String, Map<String, Double>> result = new TreeMap<>();
    if (task == Task.CLASSIFIER) {
      Map<String, Double> auc = aucRoc(scored, label, key);
      Column[] aggregates = confusion(label, threshold);
      for (Row row : scored.groupBy(key.as("kiln_group")).agg(aggregates[0],
          java.util.Arrays.copyOfRange(aggregates, 1, aggregates.length)).collectAsList()) {
        Map<String, Double> metrics = fromConfusion(row);
        String value = String.valueOf(row.get(row.fieldIndex("kiln_group")));
        metrics.put("auc_roc", auc.getOrDefault(value, Double.NaN));
        result.put(value, metrics);
      }
    } else {
      Column[] aggregates = regression(label);
      for (Row row : scored.groupBy(key.as("kiln_group")).agg(aggregates[0],
          java.util.Arrays.copyOfRange(aggregates, 1, aggregates.length)).collectAsList()) {
        Map<String, Double> metrics = fromRegression(dropFirst(row));
        result.put(String.valueOf(row.get(0)), metrics);
      }
    }
    return result;
  }

  /**
   * The exact AUC-ROC per value of {@code group}: the Mann-Whitney U of the positives' scores against the
   * negatives', a tie between a positive and a negative counted as one half, over the number of such pairs
   * (NaN for a group without both classes). Rows are first counted per (group, score), so a window per group
   * runs over its distinct scores only: sum over scores s of positives(s) * (negatives below s + negatives(s) / 2).
   * Twice that sum is an integer and is summed as one, exactly. Rows without a score are left out.
   */
  static Map<String, Double> aucRoc(Dataset<Row> scored, String label, Column group) {
    Column positive = when(col(label).equalTo(1.0), 1L).otherwise(0L);
    Dataset<Row> atScore = scored.where(col(SCORE).isNotNull())
        .groupBy(group.as("kiln_group"), col(SCORE).as("kiln_at"))
        .agg(sum(positive).as("positives_at"), sum(lit(1L).minus(positive)).as("negatives_at"));
    WindowSpec below = Window.partitionBy(col("kiln_group")).orderBy(col("kiln_at"))
        .rowsBetween(Window.unboundedPreceding(), -1);
    Dataset<Row> counted = atScore.withColumn("negatives_below",
        coalesce(sum(col("negatives_at")).over(below), lit(0L)));
    Map<String, Double> auc = new TreeMap<>();
    for (Row row : counted.groupBy(col("kiln_group"))
        .agg(sum(col("positives_at").multiply(col("negatives_below").multiply(2).plus(col("negatives_at"))))
                .as("twice_wins"),
            sum(col("positives_at")).as("positives"), sum(col("negatives_at")).as("negatives"))
        .collectAsList()) {
      double positives = row.getLong(2);
      double negatives = row.getLong(3);
      auc.put(String.valueOf(row.get(0)), positives == 0 || negatives == 0 ? Double.NaN
          : row.getLong(1) / 2.0 / (positives * negatives));
    }
    return auc;
  }

  private static Row aggregate(Dataset<Row> rows, Column[] columns) {
    return rows.agg(columns[0], java.util.Arrays.copyOfRange(columns, 1, columns.length)).first();
  }

  private static Row dropFirst(Row row) {
    Object[] values = new Object[row.size() - 1];
    for (int i = 1; i < row.size(); i++) {
      values[i - 1] = row.get(i);
    }
    return org.apache.spark.sql.RowFactory.create(values);
  }
}
