package kiln.drift.internal;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.datasketches.kll.KllDoublesSketch;
import org.apache.datasketches.kll.KllDoublesSketchIterator;
import org.apache.datasketches.memory.Memory;

/**
 * The mergeable state of a numeric column: counts of nulls and non-finite values, exact moments,
 * and the distribution of the finite values, held exactly (value counts) while it has at most
 * {@code exactLimit} distinct values and as a KLL quantile sketch beyond.
 */
public final class NumericProfile implements ColumnProfile {
  private final int exactLimit;
  private final int sketchK;
  long rows;
  long nulls;
  long nans;
  long positiveInfinities;
  long negativeInfinities;
  long finite;
  double mean;
  double m2;
  double min = Double.POSITIVE_INFINITY;
  double max = Double.NEGATIVE_INFINITY;
  private DoubleCounts counts = new DoubleCounts();
  private KllDoublesSketch sketch;

  /**
   * The gpu profile's state beyond {@code exactLimit} distinct values ({@link GpuProfiler}):
   * approx_percentile at evenly spaced ranks, each standing for an equal share of the finite
   * values, and the rank error that carries.
   */
  private double[] quantiles;

  private double quantileError;

  public NumericProfile(int exactLimit, int sketchK) {
    this.exactLimit = exactLimit;
    this.sketchK = sketchK;
  }

  @Override
  public void addNull() {
    rows++;
    nulls++;
  }

  public void add(double value) {
    rows++;
    if (Double.isNaN(value)) {
      nans++;
      return;
    }
    if (Double.isInfinite(value)) {
      if (value > 0) {
        positiveInfinities++;
      } else {
        negativeInfinities++;
      }
      return;
    }
    finite++;
    double delta = value - mean;
    mean += delta / finite;
    m2 += delta * (value - mean);
    if (value < min) {
      min = value;
    }
    if (value > max) {
      max = value;
    }
    if (counts != null) {
      counts.add(value, 1);
      if (counts.size() > exactLimit) {
        spill();
      }
    } else {
      sketch.update(value);
    }
  }

  /**
   * A profile from aggregates computed elsewhere ({@link GpuProfiler}): the counts and moments of
   * the values, {@code m2} the sum of squared deviations of the finite values from their mean. The
   * distribution is then given by {@link #addCount} or {@link #setQuantiles}.
   */
  static NumericProfile ofAggregates(
      int exactLimit,
      int sketchK,
      long rows,
      long nulls,
      long nans,
      long positiveInfinities,
      long negativeInfinities,
      long finite,
      double mean,
      double m2,
      double min,
      double max) {
    NumericProfile profile = new NumericProfile(exactLimit, sketchK);
    profile.rows = rows;
    profile.nulls = nulls;
    profile.nans = nans;
    profile.positiveInfinities = positiveInfinities;
    profile.negativeInfinities = negativeInfinities;
    profile.finite = finite;
    if (finite > 0) {
      profile.mean = mean;
      profile.m2 = m2;
      profile.min = min;
      profile.max = max;
    }
    return profile;
  }

  /** Sets the sum of squared deviations of the finite values from their mean. */
  void setM2(double value) {
    m2 = value;
  }

  /** Adds {@code count} finite values equal to {@code value} to the exact distribution. */
  void addCount(double value, long count) {
    if (counts == null) {
      throw new IllegalStateException("the distribution is not held exactly");
    }
    counts.add(value, count);
  }

  /**
   * Replaces the distribution by {@code points}, ascending quantiles at evenly spaced ranks of the
   * finite values, with a rank error of {@code rankError}.
   */
  void setQuantiles(double[] points, double rankError) {
    if (points.length == 0 || finite == 0) {
      throw new IllegalStateException("quantiles of no values");
    }
    counts = null;
    sketch = null;
    quantiles = points.clone();
    java.util.Arrays.sort(quantiles);
    quantileError = rankError;
  }

  @Override
  public void merge(ColumnProfile column) {
    NumericProfile other = (NumericProfile) column;
    if (quantiles != null || other.quantiles != null) {
      // the gpu path profiles a whole side in one query; nothing merges its profiles
      throw new IllegalStateException("profiles made of approx_percentile quantiles do not merge");
    }
    rows += other.rows;
    nulls += other.nulls;
    nans += other.nans;
    positiveInfinities += other.positiveInfinities;
    negativeInfinities += other.negativeInfinities;
    if (other.finite > 0) {
      long total = finite + other.finite;
      double delta = other.mean - mean;
      mean += delta * other.finite / total;
      m2 += other.m2 + delta * delta * ((double) finite * other.finite / total);
      finite = total;
      min = Math.min(min, other.min);
      max = Math.max(max, other.max);
    }
    if (counts != null && other.counts != null) {
      counts.addAll(other.counts);
      if (counts.size() > exactLimit) {
        spill();
      }
    } else {
      if (counts != null) {
        spill();
      }
      if (other.counts != null) {
        other.counts.forEach(
            (value, count) -> {
              for (long i = 0; i < count; i++) {
                sketch.update(value);
              }
            });
      } else {
        sketch.merge(other.sketch);
      }
    }
  }

  private void spill() {
    sketch = KllDoublesSketch.newHeapInstance(sketchK);
    counts.forEach(
        (value, count) -> {
          for (long i = 0; i < count; i++) {
            sketch.update(value);
          }
        });
    counts = null;
  }

  @Override
  public long rows() {
    return rows;
  }

  @Override
  public long nulls() {
    return nulls;
  }

  public long nans() {
    return nans;
  }

  public long infinities() {
    return positiveInfinities + negativeInfinities;
  }

  public long finite() {
    return finite;
  }

  public double mean() {
    return finite == 0 ? Double.NaN : mean;
  }

  /** Population standard deviation (ddof 0) of the finite values. */
  public double standardDeviation() {
    return finite == 0 ? Double.NaN : Math.sqrt(Math.max(0, m2 / finite));
  }

  public double min() {
    return finite == 0 ? Double.NaN : min;
  }

  public double max() {
    return finite == 0 ? Double.NaN : max;
  }

  public boolean exact() {
    return counts != null;
  }

  /**
   * The normalised rank error of the distribution (0 when exact): KLL's single-rank bound at 99%
   * confidence.
   */
  public double rankError() {
    if (quantiles != null) {
      return quantileError;
    }
    return counts != null ? 0 : sketch.getNormalizedRankError(false);
  }

  /** The finite values as an empirical distribution (the sketch's retained items when sketched). */
  public StepDistribution distribution() {
    if (counts != null) {
      double[][] sorted = counts.sorted();
      return StepDistribution.of(sorted[0], sorted[1], true);
    }
    if (quantiles != null) {
      double[] weights = new double[quantiles.length];
      java.util.Arrays.fill(weights, (double) finite / quantiles.length);
      return StepDistribution.of(quantiles, weights, false);
    }
    List<double[]> items = new ArrayList<>();
    KllDoublesSketchIterator it = sketch.iterator();
    while (it.next()) {
      items.add(new double[] {it.getValue(), it.getWeight()});
    }
    items.sort((a, b) -> Double.compare(a[0], b[0]));
    double[] values = new double[items.size()];
    double[] weights = new double[items.size()];
    for (int i = 0; i < items.size(); i++) {
      values[i] = items.get(i)[0];
      weights[i] = items.get(i)[1];
    }
    return StepDistribution.of(values, weights, false);
  }

  @Override
  public void write(DataOutputStream out) throws IOException {
    out.writeInt(exactLimit);
    out.writeInt(sketchK);
    out.writeLong(rows);
    out.writeLong(nulls);
    out.writeLong(nans);
    out.writeLong(positiveInfinities);
    out.writeLong(negativeInfinities);
    out.writeLong(finite);
    out.writeDouble(mean);
    out.writeDouble(m2);
    out.writeDouble(min);
    out.writeDouble(max);
    // 1 exact, 0 KLL sketch (what writeBoolean wrote before), 2 quantiles
    out.writeByte(counts != null ? 1 : quantiles != null ? 2 : 0);
    if (quantiles != null) {
      out.writeDouble(quantileError);
      out.writeInt(quantiles.length);
      for (double q : quantiles) {
        out.writeDouble(q);
      }
    } else if (counts != null) {
      out.writeInt(counts.size());
      IOException[] failure = new IOException[1];
      counts.forEach(
          (value, count) -> {
            try {
              out.writeDouble(value);
              out.writeLong(count);
            } catch (IOException e) {
              failure[0] = e;
            }
          });
      if (failure[0] != null) {
        throw failure[0];
      }
    } else {
      byte[] bytes = sketch.toByteArray();
      out.writeInt(bytes.length);
      out.write(bytes);
    }
  }

  static NumericProfile read(DataInputStream in) throws IOException {
    NumericProfile profile = new NumericProfile(in.readInt(), in.readInt());
    profile.rows = in.readLong();
    profile.nulls = in.readLong();
    profile.nans = in.readLong();
    profile.positiveInfinities = in.readLong();
    profile.negativeInfinities = in.readLong();
    profile.finite = in.readLong();
    profile.mean = in.readDouble();
    profile.m2 = in.readDouble();
    profile.min = in.readDouble();
    profile.max = in.readDouble();
    int state = in.readByte();
    if (state == 2) {
      profile.counts = null;
      profile.quantileError = in.readDouble();
      profile.quantiles = new double[in.readInt()];
      for (int i = 0; i < profile.quantiles.length; i++) {
        profile.quantiles[i] = in.readDouble();
      }
    } else if (state == 1) {
      int size = in.readInt();
      profile.counts = new DoubleCounts(size);
      for (int i = 0; i < size; i++) {
        profile.counts.add(in.readDouble(), in.readLong());
      }
    } else {
      byte[] bytes = new byte[in.readInt()];
      in.readFully(bytes);
      profile.counts = null;
      profile.sketch = KllDoublesSketch.heapify(Memory.wrap(bytes));
    }
    return profile;
  }
}
