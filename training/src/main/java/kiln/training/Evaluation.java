package kiln.training;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.explode;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.when;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.models.ModelFiles;
import kiln.core.models.Task;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

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
    long started = System.nanoTime();
    Map<Key, Map<String, Double>> byKey =
        task == Task.CLASSIFIER
            ? classifierMetrics(
                classifierRows(scored, part, parts, label, groupColumns),
                groupedPart,
                groupColumns,
                threshold)
            : regressorMetrics(keyed(scored, part, parts, groupedPart, label, groupColumns), label);
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
  private record Key(String part, String dimension, String value) implements Serializable {}

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
   * The rows of the parts asked for, as the classifier's pass reads them: the part, the label and
   * the score as doubles, then each group column's value as a string.
   */
  private static Dataset<Row> classifierRows(
      Dataset<Row> scored, Column part, List<String> parts, String label, List<String> groups) {
    Column partName = part.cast("string");
    List<Column> columns = new ArrayList<>();
    columns.add(partName.as("kiln_part"));
    columns.add(col(label).cast("double").as("kiln_label"));
    columns.add(col(SCORE).cast("double").as("kiln_at"));
    groups.forEach(g -> columns.add(col(g).cast("string")));
    return scored.where(partName.isin(parts.toArray())).select(columns.toArray(new Column[0]));
  }

  /**
   * Every classifier statistic of every key, from one Spark job without a shuffle: each task counts
   * its rows per key and distinct score ({@link ScoreCounts}), the driver merges those counts and
   * walks each key's distinct scores in order (the exact AUC-ROC, AUC-PR's bins, the confusion at
   * the threshold). The driver holds one entry per key and distinct score; a classifier's float32
   * probabilities have far fewer distinct values than a test set has rows.
   */
  private static Map<Key, Map<String, Double>> classifierMetrics(
      Dataset<Row> rows, String groupedPart, List<String> groupColumns, double threshold) {
    List<Map<Key, ScoreCounts>> partitions =
        rows.javaRDD().mapPartitions(new CountScores(groupedPart, groupColumns)).collect();
    Map<Key, ScoreCounts> merged = new HashMap<>();
    for (Map<Key, ScoreCounts> partition : partitions) {
      partition.forEach(
          (key, counts) -> {
            ScoreCounts into = merged.get(key);
            if (into == null) {
              merged.put(key, counts);
            } else {
              into.merge(counts);
            }
          });
    }
    Map<Key, Map<String, Double>> metrics = new HashMap<>();
    merged.forEach((key, counts) -> metrics.put(key, counts.metrics(threshold)));
    return metrics;
  }

  /**
   * One task's counting: per row, the part as a whole and (in {@code groupedPart}) the row's value
   * of each group column.
   */
  private static final class CountScores
      implements FlatMapFunction<Iterator<Row>, Map<Key, ScoreCounts>> {
    private final String groupedPart;
    private final List<String> groupColumns;

    CountScores(String groupedPart, List<String> groupColumns) {
      this.groupedPart = groupedPart;
      this.groupColumns = List.copyOf(groupColumns);
    }

    @Override
    public Iterator<Map<Key, ScoreCounts>> call(Iterator<Row> rows) {
      Map<Key, ScoreCounts> counts = new HashMap<>();
      Map<String, ScoreCounts> overall = new HashMap<>();
      while (rows.hasNext()) {
        Row row = rows.next();
        String part = row.getString(0);
        boolean labelled = !row.isNullAt(1);
        double label = labelled ? row.getDouble(1) : Double.NaN;
        boolean scored = !row.isNullAt(2);
        double at = scored ? row.getDouble(2) : Double.NaN;
        overall
            .computeIfAbsent(
                part,
                p -> counts.computeIfAbsent(new Key(p, null, null), k -> new ScoreCounts(true)))
            .add(labelled, label, scored, at);
        if (part.equals(groupedPart)) {
          for (int g = 0; g < groupColumns.size(); g++) {
            Key key =
                new Key(
                    part, groupColumns.get(g), row.isNullAt(3 + g) ? "null" : row.getString(3 + g));
            counts
                .computeIfAbsent(key, k -> new ScoreCounts(false))
                .add(labelled, label, scored, at);
          }
        }
      }
      counts.values().forEach(ScoreCounts::trim);
      return List.of(counts).iterator();
    }
  }

  /**
   * One key's rows counted per distinct score (rows, positives: label 1, zeros: label 0), the
   * unscored rows, the log-loss's sum and rows, and (for a part as a whole) the calibration bins.
   * Scores compare as Spark SQL compares them: NaN equals NaN and is above every number, -0.0 is
   * 0.0.
   */
  static final class ScoreCounts implements Serializable {
    private static final long serialVersionUID = 1L;
    private final boolean calibrated;
    private double[] scores = new double[16];
    private long[] rows = new long[16];
    private long[] positives = new long[16];
    private long[] zeros = new long[16];
    private int size;
    // open addressing over the scores' bits: slot + 1, 0 for empty; rebuilt after deserialisation
    private transient int[] index;
    private long unscoredRows;
    private long unscoredPositives;
    private long unscoredZeros;
    private double lossSum;
    private long lossRows;
    // per bin: rows, score sum, label sum, labelled rows
    private final double[][] calibration;

    ScoreCounts(boolean calibrated) {
      this.calibrated = calibrated;
      this.calibration = calibrated ? new double[CALIBRATION_BINS][4] : null;
    }

    void add(boolean labelled, double label, boolean scored, double at) {
      boolean positive = labelled && label == 1.0;
      boolean zero = labelled && label == 0.0;
      if (!scored) {
        unscoredRows++;
        unscoredPositives += positive ? 1 : 0;
        unscoredZeros += zero ? 1 : 0;
        return;
      }
      int slot = slot(at);
      rows[slot]++;
      positives[slot] += positive ? 1 : 0;
      zeros[slot] += zero ? 1 : 0;
      if (labelled) {
        // Spark's least(greatest(score, eps), 1 - eps): NaN is the greatest value there
        double p = Double.isNaN(at) ? 1 - EPSILON : Math.min(Math.max(at, EPSILON), 1 - EPSILON);
        lossSum += -(label * StrictMath.log(p) + (1.0 - label) * StrictMath.log(1.0 - p));
        lossRows++;
      }
      if (calibrated) {
        double[] bin = calibration[calibrationBin(at)];
        bin[0]++;
        bin[1] += at;
        if (labelled) {
          bin[2] += label;
          bin[3]++;
        }
      }
    }

    /** Drops the arrays' unused capacity before the counts go to the driver. */
    void trim() {
      scores = Arrays.copyOf(scores, size);
      rows = Arrays.copyOf(rows, size);
      positives = Arrays.copyOf(positives, size);
      zeros = Arrays.copyOf(zeros, size);
    }

    /** Adds another task's counts of the same key. */
    void merge(ScoreCounts other) {
      for (int i = 0; i < other.size; i++) {
        int slot = slot(other.scores[i]);
        rows[slot] += other.rows[i];
        positives[slot] += other.positives[i];
        zeros[slot] += other.zeros[i];
      }
      unscoredRows += other.unscoredRows;
      unscoredPositives += other.unscoredPositives;
      unscoredZeros += other.unscoredZeros;
      lossSum += other.lossSum;
      lossRows += other.lossRows;
      if (calibrated) {
        for (int b = 0; b < CALIBRATION_BINS; b++) {
          for (int j = 0; j < 4; j++) {
            calibration[b][j] += other.calibration[b][j];
          }
        }
      }
    }

    /** floor(score * 10), at most 9: Spark's floor gives 0 for NaN, as Java's cast does. */
    private static int calibrationBin(double at) {
      return (int)
          Math.max(0, Math.min((long) Math.floor(at * CALIBRATION_BINS), CALIBRATION_BINS - 1));
    }

    private int slot(double score) {
      double at = score == 0.0 ? 0.0 : score; // -0.0 groups with 0.0, as in Spark
      if (index == null || size * 2 >= index.length) {
        rehash();
      }
      int mask = index.length - 1;
      long bits = Double.doubleToLongBits(at); // one NaN
      int h = Long.hashCode(bits * 0x9E3779B97F4A7C15L);
      for (int i = h & mask; ; i = (i + 1) & mask) {
        int entry = index[i];
        if (entry == 0) {
          if (size == scores.length) {
            int capacity = Math.max(16, size * 2);
            scores = Arrays.copyOf(scores, capacity);
            rows = Arrays.copyOf(rows, capacity);
            positives = Arrays.copyOf(positives, capacity);
            zeros = Arrays.copyOf(zeros, capacity);
          }
          scores[size] = at;
          index[i] = ++size;
          return size - 1;
        }
        if (Double.doubleToLongBits(scores[entry - 1]) == bits) {
          return entry - 1;
        }
      }
    }

    private void rehash() {
      int capacity = Integer.highestOneBit(Math.max(32, size * 4));
      index = new int[capacity];
      int mask = capacity - 1;
      for (int s = 0; s < size; s++) {
        int h = Long.hashCode(Double.doubleToLongBits(scores[s]) * 0x9E3779B97F4A7C15L);
        int i = h & mask;
        while (index[i] != 0) {
          i = (i + 1) & mask;
        }
        index[i] = s + 1;
      }
    }

    /**
     * The key's metrics: its distinct scores in ascending order (Spark's: NaN last) give the
     * Mann-Whitney U (ties one half), the confusion at the threshold (Spark's {@code score >=
     * threshold}, true for NaN) and, for a part as a whole, AUC-PR's bins from the highest score.
     */
    Map<String, Double> metrics(double threshold) {
      int[] order = ascending();
      double tp = 0;
      double fp = 0;
      double fn = unscoredPositives;
      double tn = unscoredZeros;
      double count = unscoredRows;
      long negativesBelow = 0;
      long twiceWins = 0;
      long scoredPositives = 0;
      for (int i : order) {
        long negativesAt = rows[i] - positives[i];
        twiceWins += positives[i] * (negativesBelow * 2 + negativesAt);
        negativesBelow += negativesAt;
        scoredPositives += positives[i];
        count += rows[i];
        if (Double.isNaN(scores[i]) || scores[i] >= threshold) {
          tp += positives[i];
          fp += zeros[i];
        } else {
          fn += positives[i];
          tn += zeros[i];
        }
      }
      Map<String, Double> m =
          fromConfusion(count, tp, fp, fn, tn, lossRows == 0 ? Double.NaN : lossSum / lossRows);
      // the Mann-Whitney U over the number of (positive, negative) pairs; twice U is an integer,
      // summed exactly
      m.put(
          "auc_roc",
          scoredPositives == 0 || negativesBelow == 0
              ? Double.NaN
              : twiceWins / 2.0 / ((double) scoredPositives * negativesBelow));
      if (calibrated) {
        m.put("auc_pr", size == 0 ? Double.NaN : areaUnderPrecisionRecall(prBins(order)));
        m.put("calibration_error", calibrationError(size == 0 ? null : calibration));
      }
      return m;
    }

    /**
     * Spark's AUC-PR grouping: with N distinct scores, N / 1000 consecutive ones per bin once that
     * is 2 or more, from the highest score down.
     */
    private List<double[]> prBins(int[] order) {
      long perBin = size / PR_BINS;
      long grouping = perBin >= 2 ? perBin : 1;
      List<double[]> bins = new ArrayList<>();
      for (int rank = 0; rank < size; rank++) {
        int i = order[size - 1 - rank];
        if (rank % grouping == 0) {
          bins.add(new double[2]);
        }
        double[] bin = bins.get(bins.size() - 1);
        bin[0] += positives[i];
        bin[1] += rows[i] - positives[i];
      }
      return bins;
    }

    /** The slots in ascending order of their scores (Arrays.sort's order: NaN last). */
    private int[] ascending() {
      double[] sorted = Arrays.copyOf(scores, size);
      Arrays.sort(sorted);
      int[] order = new int[size];
      for (int r = 0; r < size; r++) {
        order[r] = slot(sorted[r]);
      }
      return order;
    }

    private void readObject(java.io.ObjectInputStream in)
        throws java.io.IOException, ClassNotFoundException {
      in.defaultReadObject();
      index = null;
    }
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
    Map<String, Double> auc = new TreeMap<>();
    classifierMetrics(
            scored.select(
                group.cast("string").as("kiln_part"),
                col(label).cast("double").as("kiln_label"),
                col(SCORE).cast("double").as("kiln_at")),
            null,
            List.of(),
            0.5)
        .forEach((key, metrics) -> auc.put(key.part(), metrics.get("auc_roc")));
    return auc;
  }
}
