package kiln.training;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.floor;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.least;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log;
import static org.apache.spark.sql.functions.rank;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * Test-set metrics from a scored frame (the label and {@value #SCORE}: the probability of class 1 for a
 * classifier, the prediction for a regressor), overall and per group, with DataFrame aggregations only.
 */
public final class Evaluation {
  public static final String SCORE = "kiln_score";
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
    metrics.put("auc_roc", evaluator.setMetricName("areaUnderROC").evaluate(scored));
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

  /**
   * Metrics per value of {@code group}. A classifier's per-group AUC-ROC is the Mann-Whitney statistic
   * from ranks within the group (ties ranked by their first position).
   */
  static Map<String, Map<String, Double>> groupMetrics(Dataset<Row> scored, Task task, String label, double threshold,
      String group) {
    Column key = col(group).cast("string");
    Map<String, Map<String, Double>> result = new TreeMap<>();
    if (task == Task.CLASSIFIER) {
      Dataset<Row> ranked = scored.withColumn("kiln_rank",
          rank().over(Window.partitionBy(key).orderBy(col(SCORE))).cast("double"));
      List<Column> aggregates = new ArrayList<>(List.of(confusion(label, threshold)));
      aggregates.add(sum(when(col(label).equalTo(1.0), col("kiln_rank")).otherwise(0.0)).as("positive_ranks"));
      for (Row row : ranked.groupBy(key.as("kiln_group")).agg(aggregates.get(0),
          aggregates.subList(1, aggregates.size()).toArray(new Column[0])).collectAsList()) {
        Map<String, Double> metrics = fromConfusion(row);
        double positives = row.getLong(row.fieldIndex("tp")) + row.getLong(row.fieldIndex("fn"));
        double negatives = metrics.get("rows") - positives;
        double ranks = row.getDouble(row.fieldIndex("positive_ranks"));
        metrics.put("auc_roc", positives == 0 || negatives == 0 ? Double.NaN
            : (ranks - positives * (positives + 1) / 2) / (positives * negatives));
        result.put(String.valueOf(row.get(row.fieldIndex("kiln_group"))), metrics);
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
