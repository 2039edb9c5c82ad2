package kiln.drift.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A small gradient-boosted tree classifier (logistic loss, histogram splits on at most {@value
 * #BINS} quantile bins per feature, missing values in a bin of their own), in the manner of the
 * LightGBM model NannyML's domain classifier trains. It runs on the driver over the domain
 * classifier's bounded sample (at most tens of thousands of rows), where a distributed learner
 * would spend its time scheduling jobs.
 */
final class BoostedTrees implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  static final int BINS = 32;
  private static final double LAMBDA = 1.0;

  private final double[][] cuts;
  private final double base;
  private final double learningRate;
  private final List<Tree> trees;

  private BoostedTrees(double[][] cuts, double base, double learningRate, List<Tree> trees) {
    this.cuts = cuts;
    this.base = base;
    this.learningRate = learningRate;
    this.trees = trees;
  }

  /** One tree: arrays of nodes; a leaf has feature -1. */
  private record Tree(int[] feature, int[] split, int[] left, int[] right, double[] value)
      implements java.io.Serializable {}

  /**
   * Fits on the rows {@code train} of {@code x} (rows by features, NaN for missing) with labels
   * {@code y} (0 or 1).
   */
  static BoostedTrees fit(
      double[][] x, int[] y, int[] train, int rounds, int depth, int minLeaf, double rate) {
    return fit(
        x, Arrays.stream(y).asDoubleStream().toArray(), true, train, rounds, depth, minLeaf, rate);
  }

  /**
   * Fits a regressor (squared loss: the gradient is the residual, the hessian 1) on the rows {@code
   * train} of {@code x} with targets {@code y}; {@link #score} is then the predicted value. Direct
   * loss estimation's model of each row's loss (NannyML uses LightGBM's regressor).
   */
  static BoostedTrees fitRegression(
      double[][] x, double[] y, int[] train, int rounds, int depth, int minLeaf, double rate) {
    return fit(x, y, false, train, rounds, depth, minLeaf, rate);
  }

  private static BoostedTrees fit(
      double[][] x,
      double[] y,
      boolean logistic,
      int[] train,
      int rounds,
      int depth,
      int minLeaf,
      double rate) {
    Objects.requireNonNull(x, "x is null");
    int d = x.length == 0 ? 0 : x[0].length;
    double[][] cuts = new double[d][];
    for (int f = 0; f < d; f++) {
      cuts[f] = cuts(x, train, f);
    }
    int n = train.length;
    int[][] bins = new int[n][d];
    for (int i = 0; i < n; i++) {
      for (int f = 0; f < d; f++) {
        bins[i][f] = bin(cuts[f], x[train[i]][f]);
      }
    }
    double positives = 0;
    for (int i : train) {
      positives += y[i];
    }
    double p0 = Math.min(1 - 1e-6, Math.max(1e-6, positives / Math.max(1, n)));
    // logistic: the log-odds of the share of class 1; squared loss: the mean target
    double base = logistic ? Math.log(p0 / (1 - p0)) : positives / Math.max(1, n);
    double[] score = new double[n];
    Arrays.fill(score, base);
    double[] g = new double[n];
    double[] h = new double[n];
    List<Tree> trees = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      for (int i = 0; i < n; i++) {
        if (logistic) {
          double p = 1 / (1 + Math.exp(-score[i]));
          g[i] = p - y[train[i]];
          h[i] = Math.max(p * (1 - p), 1e-12);
        } else {
          g[i] = score[i] - y[train[i]];
          h[i] = 1;
        }
      }
      Builder builder = new Builder(bins, g, h, d, depth, minLeaf);
      int[] all = new int[n];
      for (int i = 0; i < n; i++) {
        all[i] = i;
      }
      builder.grow(all, 0);
      Tree tree = builder.tree();
      trees.add(tree);
      for (int i = 0; i < n; i++) {
        score[i] += rate * leaf(tree, bins[i]);
      }
    }
    return new BoostedTrees(cuts, base, rate, trees);
  }

  /** The raw score (log-odds of class 1) of a row. */
  double score(double[] row) {
    int[] binned = new int[cuts.length];
    for (int f = 0; f < cuts.length; f++) {
      binned[f] = bin(cuts[f], row[f]);
    }
    double s = base;
    for (Tree tree : trees) {
      s += learningRate * leaf(tree, binned);
    }
    return s;
  }

  private static double leaf(Tree tree, int[] binned) {
    int node = 0;
    while (tree.feature()[node] >= 0) {
      node =
          binned[tree.feature()[node]] <= tree.split()[node]
              ? tree.left()[node]
              : tree.right()[node];
    }
    return tree.value()[node];
  }

  /** Up to BINS - 2 distinct quantile cut points of the training rows' non-missing values. */
  private static double[] cuts(double[][] x, int[] train, int f) {
    double[] values =
        Arrays.stream(train).mapToDouble(i -> x[i][f]).filter(v -> !Double.isNaN(v)).toArray();
    if (values.length == 0) {
      return new double[0];
    }
    Arrays.sort(values);
    double[] chosen = new double[BINS - 2];
    int count = 0;
    for (int q = 1; q < BINS - 1; q++) {
      double v = values[(int) ((long) q * (values.length - 1) / (BINS - 1))];
      if (count == 0 || v > chosen[count - 1]) {
        chosen[count++] = v;
      }
    }
    return Arrays.copyOf(chosen, count);
  }

  /** Bin 0: missing; then 1 + the number of cut points below the value. */
  private static int bin(double[] cuts, double v) {
    if (Double.isNaN(v)) {
      return 0;
    }
    int at = Arrays.binarySearch(cuts, v);
    return 1 + (at >= 0 ? at : -at - 1);
  }

  /** Grows one tree depth-first on the gradients. */
  private static final class Builder {
    private final int[][] bins;
    private final double[] g;
    private final double[] h;
    private final int d;
    private final int depth;
    private final int minLeaf;
    private final List<int[]> nodes = new ArrayList<>(); // feature, split, left, right
    private final List<Double> values = new ArrayList<>();

    Builder(int[][] bins, double[] g, double[] h, int d, int depth, int minLeaf) {
      this.bins = bins;
      this.g = g;
      this.h = h;
      this.d = d;
      this.depth = depth;
      this.minLeaf = minLeaf;
    }

    int grow(int[] rows, int level) {
      int id = nodes.size();
      nodes.add(new int[] {-1, 0, -1, -1});
      double gs = 0;
      double hs = 0;
      for (int i : rows) {
        gs += g[i];
        hs += h[i];
      }
      values.add(-gs / (hs + LAMBDA));
      if (level >= depth || rows.length < 2 * minLeaf) {
        return id;
      }
      double parent = gs * gs / (hs + LAMBDA);
      double bestGain = 1e-9;
      int bestFeature = -1;
      int bestSplit = -1;
      double[] gh = new double[BINS];
      double[] hh = new double[BINS];
      int[] ch = new int[BINS];
      for (int f = 0; f < d; f++) {
        Arrays.fill(gh, 0);
        Arrays.fill(hh, 0);
        Arrays.fill(ch, 0);
        for (int i : rows) {
          int b = bins[i][f];
          gh[b] += g[i];
          hh[b] += h[i];
          ch[b]++;
        }
        double gl = 0;
        double hl = 0;
        int nl = 0;
        for (int b = 0; b < BINS - 1; b++) {
          gl += gh[b];
          hl += hh[b];
          nl += ch[b];
          int nr = rows.length - nl;
          if (nl < minLeaf || nr < minLeaf) {
            continue;
          }
          double gr = gs - gl;
          double hr = hs - hl;
          double gain = gl * gl / (hl + LAMBDA) + gr * gr / (hr + LAMBDA) - parent;
          if (gain > bestGain) {
            bestGain = gain;
            bestFeature = f;
            bestSplit = b;
          }
        }
      }
      if (bestFeature < 0) {
        return id;
      }
      int leftCount = 0;
      for (int i : rows) {
        if (bins[i][bestFeature] <= bestSplit) {
          leftCount++;
        }
      }
      int[] left = new int[leftCount];
      int[] right = new int[rows.length - leftCount];
      int l = 0;
      int r = 0;
      for (int i : rows) {
        if (bins[i][bestFeature] <= bestSplit) {
          left[l++] = i;
        } else {
          right[r++] = i;
        }
      }
      int leftId = grow(left, level + 1);
      int rightId = grow(right, level + 1);
      nodes.set(id, new int[] {bestFeature, bestSplit, leftId, rightId});
      return id;
    }

    Tree tree() {
      int m = nodes.size();
      int[] feature = new int[m];
      int[] split = new int[m];
      int[] left = new int[m];
      int[] right = new int[m];
      double[] value = new double[m];
      for (int i = 0; i < m; i++) {
        int[] node = nodes.get(i);
        feature[i] = node[0];
        split[i] = node[1];
        left[i] = node[2];
        right[i] = node[3];
        value[i] = values.get(i);
      }
      return new Tree(feature, split, left, right, value);
    }
  }

  /** ROC AUC of scores against 0/1 labels, ties counted half (the Mann-Whitney statistic). */
  static double auc(double[] scores, int[] labels) {
    int n = scores.length;
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
    double rankSum = 0;
    long positives = 0;
    int i = 0;
    while (i < n) {
      int j = i;
      while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
        j++;
      }
      double rank = (i + j) / 2.0 + 1; // average rank of the tie group
      for (int k = i; k <= j; k++) {
        if (labels[order[k]] == 1) {
          rankSum += rank;
          positives++;
        }
      }
      i = j + 1;
    }
    long negatives = n - positives;
    if (positives == 0 || negatives == 0) {
      return Double.NaN;
    }
    return (rankSum - positives * (positives + 1) / 2.0) / ((double) positives * negatives);
  }
}
