package kiln.drift.internal;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleBiFunction;
import org.apache.spark.sql.Row;

/**
 * Direct loss estimation's model of one row's loss (NannyML's DLE, which trains a LightGBM
 * regressor per metric): gradient-boosted regression trees ({@link BoostedTrees}) from the features
 * and the model's prediction to the row's loss (absolute error, squared error, ...) on the labelled
 * reference. Serializable: the executors predict each row's loss.
 *
 * <p>Rows given to {@link #fit} and {@link #predict} hold the numeric features (doubles, null for
 * missing), then the categorical ones (strings), then the prediction. Categories are coded by their
 * frequency on the reference (NannyML codes them in sorted order for LightGBM's categorical splits;
 * these trees split on the codes' order, where frequency groups the common values); a category the
 * reference did not have is missing.
 */
public final class LossModel implements Serializable {
  private static final long serialVersionUID = 1L;

  /**
   * NannyML's LGBMRegressor defaults: 100 rounds, rate 0.1, 20 rows a leaf; depth 5 (32 leaves).
   */
  static final int ROUNDS = 100;

  static final int DEPTH = 5;
  static final int MIN_LEAF = 20;
  static final double RATE = 0.1;

  private final int numeric;
  private final List<Map<String, Integer>> codes;
  private final BoostedTrees trees;

  /** The fewest rows a leaf holds: a fit needs at least two leaves' worth. */
  public static int minLeaf() {
    return MIN_LEAF;
  }

  private LossModel(int numeric, List<Map<String, Integer>> codes, BoostedTrees trees) {
    this.numeric = numeric;
    this.codes = codes;
    this.trees = trees;
  }

  /**
   * Per categorical column: each reference value's code by frequency (ties by name), shared by the
   * loss models of one estimator.
   */
  public static List<Map<String, Integer>> codes(List<Row> rows, int numeric, int categorical) {
    return frequencyCodes(List.of(rows), numeric, categorical);
  }

  /**
   * Per categorical column (after {@code numeric} numeric ones): each value's code by its frequency
   * over all {@code samples}, most frequent first, ties by name. Shared with the domain classifier.
   */
  static List<Map<String, Integer>> frequencyCodes(
      List<List<Row>> samples, int numeric, int categorical) {
    List<Map<String, Integer>> codes = new ArrayList<>();
    for (int f = 0; f < categorical; f++) {
      Map<String, Integer> counts = new HashMap<>();
      for (List<Row> sample : samples) {
        for (Row row : sample) {
          if (!row.isNullAt(numeric + f)) {
            counts.merge(row.getString(numeric + f), 1, Integer::sum);
          }
        }
      }
      List<String> order = new ArrayList<>(counts.keySet());
      order.sort(
          Comparator.comparing((String v) -> -counts.get(v))
              .thenComparing(Comparator.naturalOrder()));
      Map<String, Integer> code = new HashMap<>();
      for (int i = 0; i < order.size(); i++) {
        code.put(order.get(i), i);
      }
      codes.add(code);
    }
    return codes;
  }

  /**
   * Fits the loss model on the reference rows.
   *
   * @param loss the row's loss from its label and prediction (e.g. the absolute error)
   * @param label each row's label, in the rows' order
   */
  public static LossModel fit(
      List<Row> rows,
      int numeric,
      List<Map<String, Integer>> codes,
      double[] label,
      ToDoubleBiFunction<Double, Double> loss) {
    Objects.requireNonNull(rows, "rows is null");
    int n = rows.size();
    double[][] x = new double[n][];
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = encode(rows.get(i), numeric, codes);
      y[i] = loss.applyAsDouble(label[i], x[i][x[i].length - 1]);
    }
    int[] train = java.util.stream.IntStream.range(0, n).toArray();
    return new LossModel(
        numeric, codes, BoostedTrees.fitRegression(x, y, train, ROUNDS, DEPTH, MIN_LEAF, RATE));
  }

  /** The row's expected loss, at least 0 (as NannyML clips it). */
  public double predict(Row row) {
    return Math.max(0, trees.score(encode(row, numeric, codes)));
  }

  private static double[] encode(Row row, int numeric, List<Map<String, Integer>> codes) {
    int d = numeric + codes.size() + 1;
    double[] x = new double[d];
    for (int f = 0; f < numeric; f++) {
      x[f] = row.isNullAt(f) ? Double.NaN : ((Number) row.get(f)).doubleValue();
    }
    for (int f = 0; f < codes.size(); f++) {
      Integer code =
          row.isNullAt(numeric + f) ? null : codes.get(f).get(row.getString(numeric + f));
      x[numeric + f] = code == null ? Double.NaN : code;
    }
    x[d - 1] = row.isNullAt(d - 1) ? Double.NaN : ((Number) row.get(d - 1)).doubleValue();
    return x;
  }
}
