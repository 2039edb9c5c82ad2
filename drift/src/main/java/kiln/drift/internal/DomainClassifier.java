package kiln.drift.internal;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.pmod;
import static org.apache.spark.sql.functions.rand;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import kiln.drift.ChunkValue;
import kiln.drift.DomainClassifierDrift;
import org.apache.spark.ml.classification.RandomForestClassificationModel;
import org.apache.spark.ml.classification.RandomForestClassifier;
import org.apache.spark.ml.evaluation.BinaryClassificationEvaluator;
import org.apache.spark.ml.feature.StringIndexer;
import org.apache.spark.ml.feature.VectorAssembler;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.expressions.Window;

/**
 * The domain classifier behind {@link DomainClassifierDrift}: per chunk, a random forest (Spark ML;
 * NannyML uses LightGBM) learns reference (0) against the chunk (1) on a sample of at most {@code
 * maxRowsPerSide} rows of each; every row is predicted by the forest trained on the other folds,
 * and the AUC of those out-of-fold predictions is the chunk's value.
 */
public final class DomainClassifier {
  private static final String SIDE = "__kiln_side";
  private static final String FOLD = "__kiln_fold";
  private static final String FEATURES = "__kiln_features";
  private static final String PROBABILITY = "__kiln_probability";
  private static final long SEED = 18;

  private DomainClassifier() {}

  /**
   * The AUC of every chunk of {@code currentChunks} (rows carry {@link Chunker#CHUNK}) against the
   * reference.
   */
  public static DomainClassifierDrift decide(
      Dataset<Row> reference,
      Dataset<Row> currentChunks,
      List<String> numeric,
      List<String> categorical,
      int folds,
      long maxRowsPerSide,
      double threshold) {
    Objects.requireNonNull(reference, "reference is null");
    Objects.requireNonNull(currentChunks, "currentChunks is null");
    if (folds < 2) {
      throw new IllegalStateException("folds must be at least 2, got " + folds);
    }
    // a null is filled with the reference mean and flagged, so that a change in missingness shows
    List<Column> means = new ArrayList<>();
    for (String c : numeric) {
      means.add(avg(col(c).cast("double")));
    }
    Row meanRow =
        numeric.isEmpty()
            ? null
            : reference
                .agg(means.get(0), means.subList(1, means.size()).toArray(Column[]::new))
                .first();
    List<Column> projected = new ArrayList<>();
    List<String> vectorInputs = new ArrayList<>();
    for (int j = 0; j < numeric.size(); j++) {
      String c = numeric.get(j);
      double fill = meanRow.isNullAt(j) ? 0 : meanRow.getDouble(j);
      projected.add(coalesce(col(c).cast("double"), lit(fill)).as("__kiln_n" + j));
      projected.add(when(col(c).isNull(), 1.0).otherwise(0.0).as("__kiln_m" + j));
      vectorInputs.add("__kiln_n" + j);
      vectorInputs.add("__kiln_m" + j);
    }
    for (int j = 0; j < categorical.size(); j++) {
      projected.add(
          coalesce(col(categorical.get(j)).cast("string"), lit("__kiln_null")).as("__kiln_c" + j));
      vectorInputs.add("__kiln_ci" + j);
    }
    Dataset<Row> referenceSample =
        sample(reference.select(projected.toArray(Column[]::new)), maxRowsPerSide)
            .withColumn(SIDE, lit(0.0))
            .cache();
    List<Column> withChunk = new ArrayList<>(projected);
    withChunk.add(col(Chunker.CHUNK));
    Dataset<Row> current = currentChunks.select(withChunk.toArray(Column[]::new));
    List<ChunkValue> values = new ArrayList<>();
    try {
      for (java.util.Map.Entry<String, Long> chunk : Chunker.sizes(currentChunks).entrySet()) {
        Dataset<Row> chunkRows =
            sample(
                    current.where(col(Chunker.CHUNK).equalTo(chunk.getKey())).drop(Chunker.CHUNK),
                    maxRowsPerSide)
                .withColumn(SIDE, lit(1.0));
        double auc =
            crossValidatedAuc(
                referenceSample.unionByName(chunkRows), categorical.size(), vectorInputs, folds);
        values.add(
            new ChunkValue(
                chunk.getKey(), chunk.getValue(), auc, Double.NaN, Double.NaN, auc > threshold));
      }
    } finally {
      referenceSample.unpersist();
    }
    return new DomainClassifierDrift(
        numeric, categorical, folds, maxRowsPerSide, threshold, values);
  }

  private static Dataset<Row> sample(Dataset<Row> rows, long max) {
    long n = rows.count();
    if (n <= max) {
      return rows;
    }
    // a little over the fraction, then cut: a seeded sample of exactly max rows
    return rows.sample(false, Math.min(1.0, 1.1 * max / n), SEED).limit((int) max);
  }

  /** Stratified folds, a forest per fold, AUC of the pooled out-of-fold probabilities. */
  static double crossValidatedAuc(
      Dataset<Row> both, int categoricalCount, List<String> vectorInputs, int folds) {
    Dataset<Row> indexed = both;
    for (int j = 0; j < categoricalCount; j++) {
      indexed =
          new StringIndexer()
              .setInputCol("__kiln_c" + j)
              .setOutputCol("__kiln_ci" + j)
              .setHandleInvalid("keep")
              .fit(indexed)
              .transform(indexed);
    }
    Dataset<Row> rows =
        new VectorAssembler()
            .setInputCols(vectorInputs.toArray(String[]::new))
            .setOutputCol(FEATURES)
            .transform(indexed)
            .select(col(FEATURES), col(SIDE))
            .withColumn(
                FOLD,
                pmod(
                    row_number().over(Window.partitionBy(col(SIDE)).orderBy(rand(SEED))),
                    lit(folds)))
            .cache();
    try {
      Dataset<Row> predictions = null;
      for (int k = 0; k < folds; k++) {
        RandomForestClassificationModel forest =
            new RandomForestClassifier()
                .setFeaturesCol(FEATURES)
                .setLabelCol(SIDE)
                .setProbabilityCol(PROBABILITY)
                .setNumTrees(30)
                .setMaxDepth(6)
                .setSeed(SEED + k)
                .fit(rows.where(col(FOLD).notEqual(k)));
        Dataset<Row> predicted = forest.transform(rows.where(col(FOLD).equalTo(k)));
        predicted = predicted.select(col(PROBABILITY), col(SIDE));
        predictions = predictions == null ? predicted : predictions.unionAll(predicted);
      }
      return new BinaryClassificationEvaluator()
          .setRawPredictionCol(PROBABILITY)
          .setLabelCol(SIDE)
          .setMetricName("areaUnderROC")
          .setNumBins(0)
          .evaluate(predictions);
    } finally {
      rows.unpersist();
    }
  }
}
