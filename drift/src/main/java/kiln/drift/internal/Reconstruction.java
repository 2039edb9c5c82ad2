package kiln.drift.internal;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.stddev_samp;
import static org.apache.spark.sql.functions.var_pop;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import kiln.drift.ChunkValue;
import kiln.drift.MultivariateDrift;
import org.apache.spark.ml.feature.PCA;
import org.apache.spark.ml.feature.PCAModel;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.ml.linalg.DenseMatrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;

/**
 * PCA reconstruction error (NannyML's DataReconstructionDriftCalculator, numeric and categorical
 * features, categories encoded as their reference share): the fit on the reference and the
 * per-chunk errors of both sides.
 */
public final class Reconstruction {
  private static final String ERROR = "__kiln_reconstruction_error";
  private static final String VECTOR = "__kiln_scaled";

  /**
   * The fitted transformation.
   *
   * @param shares per categorical column (NannyML's CountEncoder, normalised): each reference
   *     category's share of the reference rows, nulls counted as the mode; a category the reference
   *     did not have is 0
   * @param modes per categorical column: the most frequent reference category (ties: the first in
   *     order), which a null is imputed with (NannyML's most_frequent SimpleImputer)
   * @param mean per column, also the value a null is imputed with (numeric columns)
   * @param scale per column: the population standard deviation of the imputed column (1 when 0, as
   *     scikit-learn's StandardScaler)
   * @param components k rows of d loadings
   */
  public record Fit(
      List<String> columns,
      Map<String, Map<String, Double>> shares,
      Map<String, String> modes,
      double[] mean,
      double[] scale,
      double[][] components,
      double varianceKept,
      double varianceExplained) {
    public Fit {
      columns = List.copyOf(columns);
      shares = Map.copyOf(shares);
      modes = Map.copyOf(modes);
      Objects.requireNonNull(mean, "mean is null");
      Objects.requireNonNull(scale, "scale is null");
      Objects.requireNonNull(components, "components is null");
    }
  }

  private Reconstruction() {}

  /** Imputer, scaler and PCA fitted on the reference's numeric columns. */
  public static Fit fit(Dataset<Row> reference, List<String> columns, double varianceKept) {
    return fit(reference, columns, List.of(), varianceKept);
  }

  /**
   * Imputers, encoder, scaler and PCA fitted on the reference's numeric and categorical columns
   * (NannyML's: a category becomes its share of the reference rows, then every column is
   * standardised).
   */
  public static Fit fit(
      Dataset<Row> reference, List<String> numeric, List<String> categorical, double varianceKept) {
    List<String> columns = new ArrayList<>(numeric);
    columns.addAll(categorical);
    int d = columns.size();
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(count(lit(1)));
    for (String c : numeric) {
      Column x = col(c).cast("double");
      aggregates.add(avg(x));
      aggregates.add(var_pop(x));
      aggregates.add(count(x));
    }
    Row stats =
        reference
            .agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            .first();
    long n = stats.getLong(0);
    double[] mean = new double[d];
    double[] scale = new double[d];
    Map<String, Map<String, Double>> shares = new HashMap<>();
    Map<String, String> modes = new HashMap<>();
    for (int f = 0; f < categorical.size(); f++) {
      String c = categorical.get(f);
      Map<String, Long> counts = new HashMap<>();
      long missing = 0;
      for (Row row : reference.groupBy(col(c).cast("string")).count().collectAsList()) {
        if (row.isNullAt(0)) {
          missing = row.getLong(1);
        } else {
          counts.put(row.getString(0), row.getLong(1));
        }
      }
      String mode =
          counts.entrySet().stream()
              .min(
                  Comparator.comparing((Map.Entry<String, Long> e) -> -e.getValue())
                      .thenComparing(Map.Entry::getKey))
              .map(Map.Entry::getKey)
              .orElse("");
      counts.merge(mode, missing, Long::sum);
      Map<String, Double> share = new HashMap<>();
      double m = 0;
      double squares = 0;
      for (Map.Entry<String, Long> e : counts.entrySet()) {
        double p = (double) e.getValue() / n;
        share.put(e.getKey(), p);
        // the encoded column takes the value p on a share p of the rows
        m += p * p;
        squares += p * p * p;
      }
      shares.put(c, share);
      modes.put(c, mode);
      int j = numeric.size() + f;
      mean[j] = m;
      double std = Math.sqrt(Math.max(0, squares - m * m));
      scale[j] = std > 0 && Double.isFinite(std) ? std : 1;
    }
    for (int j = 0; j < numeric.size(); j++) {
      mean[j] = stats.isNullAt(1 + 3 * j) ? 0 : stats.getDouble(1 + 3 * j);
      double variance = stats.isNullAt(2 + 3 * j) ? 0 : stats.getDouble(2 + 3 * j);
      long present = stats.getLong(3 + 3 * j);
      // the imputed column adds (n - present) values at the mean: same squares, more rows
      double imputedVariance = n == 0 ? 0 : variance * present / n;
      double std = Math.sqrt(imputedVariance);
      scale[j] = std > 0 && Double.isFinite(std) ? std : 1;
    }
    Dataset<Row> scaled = scaled(reference, columns, shares, modes, mean, scale);
    PCAModel pca = new PCA().setInputCol(VECTOR).setK(d).setOutputCol("__kiln_pca").fit(scaled);
    double[] ratios = pca.explainedVariance().toArray();
    // scikit-learn's rule for a float n_components: the fewest components whose cumulative ratio
    // exceeds it
    int k = 0;
    double cumulative = 0;
    while (k < d && cumulative <= varianceKept) {
      cumulative += ratios[k];
      k++;
    }
    DenseMatrix pc = pca.pc();
    double[][] components = new double[k][d];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < d; j++) {
        components[i][j] = pc.apply(j, i);
      }
    }
    return new Fit(columns, shares, modes, mean, scale, components, varianceKept, cumulative);
  }

  /** A categorical column as its reference share: nulls as the mode, unknown categories 0. */
  private static Column encoded(String column, Map<String, Double> shares, String mode) {
    List<Column> entries = new ArrayList<>();
    new java.util.TreeMap<>(shares)
        .forEach(
            (k, v) -> {
              entries.add(lit(k));
              entries.add(lit(v));
            });
    Column map = functions.map(entries.toArray(Column[]::new));
    return coalesce(
        functions.element_at(map, coalesce(col(column).cast("string"), lit(mode))), lit(0.0));
  }

  private static Dataset<Row> scaled(
      Dataset<Row> rows,
      List<String> columns,
      Map<String, Map<String, Double>> shares,
      Map<String, String> modes,
      double[] mean,
      double[] scale) {
    List<String> names = new ArrayList<>();
    Dataset<Row> withColumns = rows;
    for (int j = 0; j < columns.size(); j++) {
      String name = "__kiln_z" + j;
      names.add(name);
      withColumns =
          withColumns.withColumn(
              name,
              (shares.containsKey(columns.get(j))
                      ? encoded(
                          columns.get(j), shares.get(columns.get(j)), modes.get(columns.get(j)))
                      : coalesce(col(columns.get(j)).cast("double"), lit(mean[j])))
                  .minus(mean[j])
                  .divide(scale[j]));
    }
    Dataset<Row> assembled =
        new VectorAssembler()
            .setInputCols(names.toArray(String[]::new))
            .setOutputCol(VECTOR)
            .setHandleInvalid("keep")
            .transform(withColumns);
    return assembled.drop(names.toArray(String[]::new));
  }

  /** Each row's reconstruction error in the column {@value #ERROR}. */
  public static Dataset<Row> errors(Dataset<Row> rows, Fit fit) {
    double[][] components = fit.components();
    UserDefinedFunction error =
        functions.udf(
            (UDF1<Vector, Double>)
                v -> {
                  double[] z = v.toArray();
                  double[] t = new double[components.length];
                  for (int i = 0; i < components.length; i++) {
                    double s = 0;
                    for (int j = 0; j < z.length; j++) {
                      s += components[i][j] * z[j];
                    }
                    t[i] = s;
                  }
                  double sum = 0;
                  for (int j = 0; j < z.length; j++) {
                    double r = z[j];
                    for (int i = 0; i < components.length; i++) {
                      r -= components[i][j] * t[i];
                    }
                    sum += r * r;
                  }
                  return Math.sqrt(sum);
                },
            DataTypes.DoubleType);
    return scaled(rows, fit.columns(), fit.shares(), fit.modes(), fit.mean(), fit.scale())
        .withColumn(ERROR, error.apply(col(VECTOR)))
        .drop(VECTOR);
  }

  /** Mean error, its standard error and rows per chunk of a side with a chunk column. */
  public static List<ChunkValue> perChunk(Dataset<Row> chunked, Fit fit) {
    List<Row> rows =
        errors(chunked, fit)
            .groupBy(Chunker.CHUNK)
            .agg(count(lit(1)), avg(col(ERROR)), stddev_samp(col(ERROR)))
            .orderBy(Chunker.CHUNK)
            .collectAsList();
    List<ChunkValue> values = new ArrayList<>();
    for (Row row : rows) {
      long n = row.getLong(1);
      double std = row.isNullAt(3) ? Double.NaN : row.getDouble(3);
      values.add(
          new ChunkValue(
              row.getString(0), n, row.getDouble(2), std / Math.sqrt(n), Double.NaN, false));
    }
    return values;
  }

  /** The band from the reference chunks and the current chunks' alerts. */
  public static MultivariateDrift decide(
      Fit fit, List<ChunkValue> reference, List<ChunkValue> current) {
    double[] band = Bands.meanPlusMinus3Std(reference.stream().mapToDouble(ChunkValue::value));
    double lower = Math.max(0, band[0]);
    double upper = band[1];
    List<ChunkValue> alerted =
        current.stream()
            .map(
                c ->
                    new ChunkValue(
                        c.chunk(),
                        c.rows(),
                        c.value(),
                        c.samplingError(),
                        c.realized(),
                        c.value() < lower || c.value() > upper))
            .toList();
    return new MultivariateDrift(
        fit.columns(),
        fit.components().length,
        fit.varianceKept(),
        fit.varianceExplained(),
        lower,
        upper,
        reference,
        alerted);
  }
}
