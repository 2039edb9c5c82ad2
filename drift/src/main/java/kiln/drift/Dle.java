package kiln.drift;

import static org.apache.spark.sql.functions.abs;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.greatest;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.log1p;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.pow;
import static org.apache.spark.sql.functions.stddev_pop;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.ToDoubleBiFunction;
import kiln.core.Errors;
import kiln.drift.internal.Bands;
import kiln.drift.internal.Chunker;
import kiln.drift.internal.LossModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;

/**
 * Direct loss estimation (NannyML's DLE) of a regressor's performance without labels: on the
 * labelled reference, a model of each row's loss (absolute, percentage, squared and squared
 * logarithmic error) is fitted from the features and the prediction; per chunk the mean predicted
 * loss estimates MAE, MAPE, MSE and MSLE, its square root RMSE and RMSLE. As in NannyML the alert
 * band is the reference chunks' realized metric &plusmn; 3 std (at least 0), and each chunk's
 * sampling error comes from the reference's per-row losses scaled by the chunk's size (its
 * confidence band the estimate &plusmn; 3 sampling errors).
 *
 * <p>NannyML trains LightGBM regressors; Kiln trains its own small boosted trees on the driver, on
 * a seeded sample of at most {@link #MAX_FIT_ROWS} reference rows. The estimates therefore agree
 * with NannyML's only as closely as two different loss models do (the committed fixture's test
 * states the tolerance); the realized metrics, bands and sampling errors follow NannyML's
 * definitions.
 */
public final class Dle {
  public static final String MAE = "mae";
  public static final String MAPE = "mape";
  public static final String MSE = "mse";
  public static final String RMSE = "rmse";
  public static final String MSLE = "msle";
  public static final String RMSLE = "rmsle";

  /** Every metric estimated, in the order reported (NannyML's). */
  public static final List<String> METRICS = List.of(MAE, MAPE, MSE, RMSE, MSLE, RMSLE);

  /** At most this many labelled reference rows train the loss models (a seeded sample above). */
  public static final long MAX_FIT_ROWS = 50_000;

  private static final long SEED = 18;

  /** numpy's float64 eps: sklearn's MAPE divides by max(|y|, eps). */
  private static final double EPSILON = Math.ulp(1.0);

  /** The per-row losses: each fits one model, shared by a metric and its root. */
  enum Loss {
    ABSOLUTE,
    PERCENTAGE,
    SQUARED,
    SQUARED_LOG;

    static Loss of(String metric) {
      return switch (metric) {
        case MAE -> ABSOLUTE;
        case MAPE -> PERCENTAGE;
        case MSE, RMSE -> SQUARED;
        case MSLE, RMSLE -> SQUARED_LOG;
        default -> throw new IllegalStateException("not a DLE metric: " + metric);
      };
    }

    ToDoubleBiFunction<Double, Double> function() {
      return switch (this) {
        case ABSOLUTE -> (y, p) -> Math.abs(y - p);
        case PERCENTAGE -> (y, p) -> Math.abs(y - p) / Math.max(Math.abs(y), EPSILON);
        case SQUARED -> (y, p) -> (y - p) * (y - p);
        case SQUARED_LOG -> (y, p) -> Math.pow(Math.log1p(y) - Math.log1p(p), 2);
      };
    }

    /** The same loss as a Spark column. */
    Column column(Column y, Column p) {
      return switch (this) {
        case ABSOLUTE -> abs(y.minus(p));
        case PERCENTAGE -> abs(y.minus(p)).divide(greatest(abs(y), lit(EPSILON)));
        case SQUARED -> pow(y.minus(p), 2);
        case SQUARED_LOG -> pow(log1p(y).minus(log1p(p)), 2);
      };
    }

    /**
     * The per-row value whose std is NannyML's sampling-error component (for MAPE it divides by y
     * itself, not by max(|y|, eps)).
     */
    Column samplingColumn(Column y, Column p) {
      return this == PERCENTAGE ? abs(y.minus(p)).divide(y) : column(y, p);
    }
  }

  private static final String PREDICTION = "__kiln_dle_prediction";
  private static final String LABEL = "__kiln_dle_label";

  private final List<String> numeric;
  private final List<String> categorical;
  private final String prediction;
  private final String label;
  private final List<String> metrics;
  private final Map<Loss, LossModel> models;

  /** Per loss: {std, mean} of the reference's per-row sampling values. */
  private final Map<Loss, double[]> components;

  private Dle(
      List<String> numeric,
      List<String> categorical,
      String prediction,
      String label,
      List<String> metrics,
      Map<Loss, LossModel> models,
      Map<Loss, double[]> components) {
    this.numeric = numeric;
    this.categorical = categorical;
    this.prediction = prediction;
    this.label = label;
    this.metrics = metrics;
    this.models = models;
    this.components = components;
  }

  /** The metrics this estimator reports. */
  public List<String> metrics() {
    return metrics;
  }

  /**
   * Fits the loss models on the reference rows with both a prediction and a label.
   *
   * @param numeric numeric feature columns (missing values kept as missing)
   * @param categorical categorical feature columns (read as strings)
   * @param metrics the metrics asked for (a subset of {@link #METRICS}), or null for all: MSLE and
   *     RMSLE are then left out when the reference has a negative label or prediction (their
   *     logarithm needs values above -1; NannyML refuses negative ones)
   */
  public static Dle fit(
      Dataset<Row> reference,
      List<String> numeric,
      List<String> categorical,
      String prediction,
      String label,
      List<String> metrics) {
    Objects.requireNonNull(reference, "reference is null");
    Objects.requireNonNull(prediction, "prediction is null");
    List<String> columns = List.of(reference.columns());
    if (!columns.contains(prediction)) {
      throw Errors.badInput(
          "the reference has no prediction column '" + prediction + "'",
          "score the reference with the model first; its columns are " + Errors.quoted(columns));
    }
    if (label == null || !columns.contains(label)) {
      throw Errors.badInput(
          "direct loss estimation needs a reference with labels, and the reference has"
              + (label == null ? " no label column named" : " no label column '" + label + "'"),
          "use the model's test split as the reference (kiln drift --model without --reference),"
              + " or a reference table with the label column");
    }
    if (metrics != null) {
      for (String m : metrics) {
        if (!METRICS.contains(m)) {
          throw Errors.badInput(
              "direct loss estimation estimates a regressor's " + METRICS + ", not '" + m + "'",
              "ask for regression metrics of a regressor (classification metrics are for"
                  + " classifiers)");
        }
      }
    }
    Dataset<Row> labelled =
        reference
            .where(col(prediction).isNotNull().and(col(label).isNotNull()))
            .select(select(numeric, categorical, prediction, col(label).cast("double").as(LABEL)));
    Column y = col(LABEL);
    Column p = col(PREDICTION);
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(count(lit(1)));
    aggregates.add(min(y));
    aggregates.add(min(p));
    for (Loss loss : Loss.values()) {
      aggregates.add(stddev_pop(loss.samplingColumn(y, p)));
      aggregates.add(avg(loss.samplingColumn(y, p)));
    }
    Row summary =
        labelled
            .agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            .first();
    long rows = summary.getLong(0);
    if (rows < 2L * LossModel.minLeaf()) {
      throw Errors.badInput(
          "direct loss estimation needs at least "
              + 2 * LossModel.minLeaf()
              + " reference rows with a prediction and a label; the reference has "
              + rows,
          "use a larger labelled reference (the model's test split)");
    }
    boolean nonNegative = summary.getDouble(1) >= 0 && summary.getDouble(2) >= 0;
    List<String> chosen;
    if (metrics == null) {
      chosen = METRICS.stream().filter(m -> nonNegative || Loss.of(m) != Loss.SQUARED_LOG).toList();
    } else {
      chosen = List.copyOf(new LinkedHashSet<>(metrics));
      if (!nonNegative && chosen.stream().anyMatch(m -> Loss.of(m) == Loss.SQUARED_LOG)) {
        throw Errors.badInput(
            "MSLE and RMSLE need labels and predictions of at least 0, and the reference has "
                + (summary.getDouble(1) < 0 ? "a label of " + summary.getDouble(1) : "")
                + (summary.getDouble(1) < 0 && summary.getDouble(2) < 0 ? " and " : "")
                + (summary.getDouble(2) < 0 ? "a prediction of " + summary.getDouble(2) : ""),
            "leave msle and rmsle out of the metrics");
      }
    }
    Map<Loss, double[]> components = new EnumMap<>(Loss.class);
    int at = 3;
    for (Loss loss : Loss.values()) {
      components.put(
          loss,
          new double[] {
            summary.isNullAt(at) ? Double.NaN : summary.getDouble(at),
            summary.isNullAt(at + 1) ? Double.NaN : summary.getDouble(at + 1)
          });
      at += 2;
    }
    List<Row> sample =
        rows <= MAX_FIT_ROWS
            ? labelled.collectAsList()
            : labelled
                .sample(false, Math.min(1.0, 1.1 * MAX_FIT_ROWS / rows), SEED)
                .limit((int) MAX_FIT_ROWS)
                .collectAsList();
    int d = numeric.size() + categorical.size();
    double[] labels = new double[sample.size()];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = sample.get(i).getDouble(d + 1);
    }
    List<Map<String, Integer>> codes = LossModel.codes(sample, numeric.size(), categorical.size());
    Map<Loss, LossModel> models = new EnumMap<>(Loss.class);
    for (String m : chosen) {
      Loss loss = Loss.of(m);
      if (!models.containsKey(loss)) {
        models.put(loss, LossModel.fit(sample, numeric.size(), codes, labels, loss.function()));
      }
    }
    return new Dle(
        List.copyOf(numeric),
        List.copyOf(categorical),
        prediction,
        label,
        chosen,
        models,
        components);
  }

  /** The features (numeric as double, categorical as string), the prediction, then extra. */
  private static Column[] select(
      List<String> numeric, List<String> categorical, String prediction, Column... extra) {
    List<Column> out = new ArrayList<>();
    for (String c : numeric) {
      out.add(col(c).cast("double"));
    }
    for (String c : categorical) {
      out.add(col(c).cast("string"));
    }
    out.add(col(prediction).cast("double").as(PREDICTION));
    out.addAll(List.of(extra));
    return out.toArray(Column[]::new);
  }

  /**
   * The estimated metrics per chunk of both sides (each with the chunk column): the band is the
   * reference chunks' realized metric &plusmn; 3 std, at least 0; a current chunk alerts when its
   * estimate leaves it.
   */
  public List<PerformanceEstimate> estimate(
      Dataset<Row> referenceChunks, Dataset<Row> currentChunks) {
    Map<String, Map<String, double[]>> reference = perChunk(referenceChunks);
    Map<String, Map<String, double[]>> current = perChunk(currentChunks);
    List<PerformanceEstimate> estimates = new ArrayList<>();
    for (String metric : metrics) {
      List<ChunkValue> referenceValues = values(reference.get(metric), Double.NaN, Double.NaN);
      double[] band =
          Bands.meanPlusMinus3Std(referenceValues.stream().mapToDouble(ChunkValue::realized));
      double lower = Math.max(0, band[0]);
      double upper = band[1];
      estimates.add(
          new PerformanceEstimate(
              metric, lower, upper, referenceValues, values(current.get(metric), lower, upper)));
    }
    return estimates;
  }

  private static List<ChunkValue> values(Map<String, double[]> chunks, double lower, double upper) {
    List<ChunkValue> values = new ArrayList<>();
    for (Map.Entry<String, double[]> e : new TreeMap<>(chunks).entrySet()) {
      double[] v = e.getValue();
      boolean alert = !Double.isNaN(lower) && (v[1] < lower || v[1] > upper);
      values.add(new ChunkValue(e.getKey(), (long) v[0], v[1], v[3], v[2], alert));
    }
    return values;
  }

  /** metric -> chunk -> {rows, estimated, realized, sampling error}. */
  private Map<String, Map<String, double[]>> perChunk(Dataset<Row> chunked) {
    boolean labelled = List.of(chunked.columns()).contains(label);
    Dataset<Row> rows =
        chunked
            .where(col(prediction).isNotNull())
            .select(
                select(
                    numeric,
                    categorical,
                    prediction,
                    labelled
                        ? col(label).cast("double").as(LABEL)
                        : lit(null).cast("double").as(LABEL),
                    col(Chunker.CHUNK)));
    List<Column> features = new ArrayList<>();
    for (int i = 0; i < numeric.size() + categorical.size(); i++) {
      String name = i < numeric.size() ? numeric.get(i) : categorical.get(i - numeric.size());
      features.add(col(name).as("f" + i));
    }
    features.add(col(PREDICTION).as("f" + features.size()));
    Column row = struct(features.toArray(Column[]::new));
    List<Loss> losses = new ArrayList<>(models.keySet());
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(count(lit(1)));
    Column y = col(LABEL);
    Column p = col(PREDICTION);
    for (Loss loss : losses) {
      LossModel model = models.get(loss);
      UserDefinedFunction predicted = udf((UDF1<Row, Double>) model::predict, DataTypes.DoubleType);
      aggregates.add(avg(predicted.apply(row)));
      aggregates.add(avg(when(y.isNotNull(), loss.column(y, p))));
    }
    List<Row> result =
        rows.groupBy(Chunker.CHUNK)
            .agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            .collectAsList();
    Map<String, Map<String, double[]>> out = new java.util.HashMap<>();
    for (String metric : metrics) {
      out.put(metric, new java.util.HashMap<>());
    }
    for (Row r : result) {
      String chunk = r.getString(0);
      long n = r.getLong(1);
      for (String metric : metrics) {
        Loss loss = Loss.of(metric);
        int at = 2 + 2 * losses.indexOf(loss);
        double estimated = r.getDouble(at);
        double realized = r.isNullAt(at + 1) ? Double.NaN : r.getDouble(at + 1);
        double[] c = components.get(loss);
        boolean root = metric.equals(RMSE) || metric.equals(RMSLE);
        double samplingError =
            root
                // NannyML's delta method: sqrt(std^2 / (4 n mean))
                ? Math.sqrt(c[0] * c[0] / (4 * n * c[1]))
                : c[0] / Math.sqrt(n);
        out.get(metric)
            .put(
                chunk,
                new double[] {
                  n,
                  root ? Math.sqrt(estimated) : estimated,
                  root ? Math.sqrt(realized) : realized,
                  samplingError
                });
      }
    }
    return out;
  }
}
