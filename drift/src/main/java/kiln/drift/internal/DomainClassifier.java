package kiln.drift.internal;

import static org.apache.spark.sql.functions.col;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import kiln.drift.ChunkValue;
import kiln.drift.DomainClassifierDrift;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The domain classifier behind {@link DomainClassifierDrift}: per chunk, gradient-boosted trees
 * ({@link BoostedTrees}; NannyML uses LightGBM) learn reference (0) against the chunk (1) on a
 * seeded sample of at most {@code maxRowsPerSide} rows of each side, collected to the driver; every
 * row is scored by the model trained on the other folds (stratified by side), and the AUC of those
 * out-of-fold scores is the chunk's value. Numeric features keep missing values as a bin of their
 * own; categories are coded by their frequency over both sides' samples.
 */
public final class DomainClassifier {
  private static final long SEED = 18;
  static final int ROUNDS = 60;
  static final int DEPTH = 4;
  static final int MIN_LEAF = 10;
  static final double RATE = 0.1;

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
    List<Column> projected = new ArrayList<>();
    for (String c : numeric) {
      projected.add(col(c).cast("double"));
    }
    for (String c : categorical) {
      projected.add(col(c).cast("string"));
    }
    Dataset<Row> referenceColumns = reference.select(projected.toArray(Column[]::new));
    List<Row> referenceSample = sample(referenceColumns, referenceColumns.count(), maxRowsPerSide);
    List<Column> withChunk = new ArrayList<>(projected);
    withChunk.add(col(Chunker.CHUNK));
    Dataset<Row> current = currentChunks.select(withChunk.toArray(Column[]::new));
    List<ChunkValue> values = new ArrayList<>();
    for (Map.Entry<String, Long> chunk : Chunker.sizes(currentChunks).entrySet()) {
      List<Row> chunkSample =
          sample(
              current.where(col(Chunker.CHUNK).equalTo(chunk.getKey())).drop(Chunker.CHUNK),
              chunk.getValue(),
              maxRowsPerSide);
      double auc =
          crossValidatedAuc(
              referenceSample, chunkSample, numeric.size(), categorical.size(), folds);
      values.add(
          new ChunkValue(
              chunk.getKey(), chunk.getValue(), auc, Double.NaN, Double.NaN, auc > threshold));
    }
    return new DomainClassifierDrift(
        numeric, categorical, folds, maxRowsPerSide, threshold, values);
  }

  private static List<Row> sample(Dataset<Row> rows, long n, long max) {
    if (n <= max) {
      return rows.collectAsList();
    }
    // a little over the fraction, then cut: a seeded sample of at most max rows
    return rows.sample(false, Math.min(1.0, 1.1 * max / n), SEED).limit((int) max).collectAsList();
  }

  /**
   * Stratified folds, a model per fold, the AUC of the pooled out-of-fold scores: reference rows
   * are class 0, the chunk's class 1.
   */
  static double crossValidatedAuc(
      List<Row> reference, List<Row> chunk, int numericCount, int categoricalCount, int folds) {
    int n = reference.size() + chunk.size();
    int d = numericCount + categoricalCount;
    double[][] x = new double[n][d];
    int[] y = new int[n];
    List<Map<String, Integer>> codes = codes(reference, chunk, numericCount, categoricalCount);
    for (int i = 0; i < n; i++) {
      Row row = i < reference.size() ? reference.get(i) : chunk.get(i - reference.size());
      y[i] = i < reference.size() ? 0 : 1;
      for (int f = 0; f < numericCount; f++) {
        x[i][f] = row.isNullAt(f) ? Double.NaN : row.getDouble(f);
      }
      for (int f = 0; f < categoricalCount; f++) {
        String v = row.isNullAt(numericCount + f) ? null : row.getString(numericCount + f);
        x[i][numericCount + f] = v == null ? Double.NaN : codes.get(f).get(v);
      }
    }
    // stratified: each side's rows shuffled (seeded) and dealt to the folds in turn
    int[] fold = new int[n];
    Random random = new Random(SEED);
    for (int side = 0; side <= 1; side++) {
      List<Integer> members = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        if (y[i] == side) {
          members.add(i);
        }
      }
      java.util.Collections.shuffle(members, random);
      for (int k = 0; k < members.size(); k++) {
        fold[members.get(k)] = k % folds;
      }
    }
    double[] scores = new double[n];
    for (int k = 0; k < folds; k++) {
      final int held = k;
      int[] train = java.util.stream.IntStream.range(0, n).filter(i -> fold[i] != held).toArray();
      BoostedTrees model = BoostedTrees.fit(x, y, train, ROUNDS, DEPTH, MIN_LEAF, RATE);
      for (int i = 0; i < n; i++) {
        if (fold[i] == held) {
          scores[i] = model.score(x[i]);
        }
      }
    }
    return BoostedTrees.auc(scores, y);
  }

  /** Per categorical feature: each value's code, by frequency over both samples (ties by name). */
  private static List<Map<String, Integer>> codes(
      List<Row> reference, List<Row> chunk, int numericCount, int categoricalCount) {
    return LossModel.frequencyCodes(List.of(reference, chunk), numericCount, categoricalCount);
  }
}
