package kiln.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;

/**
 * Benchmarks as ratios against a baseline run in the same JVM: candidates and baseline alternate,
 * after warm-up runs, and the medians are compared. Used by {@code bin/kiln-bench}.
 */
public final class Bench {
  private final PrintStream out;
  private final int warmups;
  private final int repetitions;

  /** The medians of one comparison, in seconds, and their ratio. */
  public record Comparison(
      String label,
      double candidateSeconds,
      double baselineSeconds,
      List<Double> candidateRuns,
      List<Double> baselineRuns) {
    public double ratio() {
      return candidateSeconds / baselineSeconds;
    }
  }

  public Bench(PrintStream out, int warmups, int repetitions) {
    if (repetitions < 3) {
      throw new IllegalArgumentException("repetitions must be at least 3, got " + repetitions);
    }
    this.out = out;
    this.warmups = warmups;
    this.repetitions = repetitions;
  }

  /** Times {@code candidate} against {@code baseline}, alternating which goes first. */
  public Comparison compare(String label, Callable<?> candidate, Callable<?> baseline)
      throws Exception {
    for (int i = 0; i < warmups; i++) {
      out.printf(Locale.ROOT, "[bench] %s: warm-up %d/%d%n", label, i + 1, warmups);
      candidate.call();
      baseline.call();
    }
    List<Double> candidateRuns = new ArrayList<>();
    List<Double> baselineRuns = new ArrayList<>();
    for (int i = 0; i < repetitions; i++) {
      if (i % 2 == 0) {
        candidateRuns.add(time(candidate));
        baselineRuns.add(time(baseline));
      } else {
        baselineRuns.add(time(baseline));
        candidateRuns.add(time(candidate));
      }
      out.printf(
          Locale.ROOT,
          "[bench] %s: run %d/%d kiln %.2f s, baseline %.2f s%n",
          label,
          i + 1,
          repetitions,
          candidateRuns.get(i),
          baselineRuns.get(i));
    }
    Comparison comparison =
        new Comparison(
            label, median(candidateRuns), median(baselineRuns), candidateRuns, baselineRuns);
    out.printf(
        Locale.ROOT,
        "[bench] %s: median kiln %.2f s, baseline %.2f s, ratio %.3f%n",
        label,
        comparison.candidateSeconds(),
        comparison.baselineSeconds(),
        comparison.ratio());
    return comparison;
  }

  /** The median of {@code repetitions} timed runs, after the warm-ups. */
  public double median(String label, Callable<?> work) throws Exception {
    for (int i = 0; i < warmups; i++) {
      work.call();
    }
    List<Double> runs = new ArrayList<>();
    for (int i = 0; i < repetitions; i++) {
      runs.add(time(work));
    }
    double median = median(runs);
    out.printf(Locale.ROOT, "[bench] %s: median %.2f s over %s%n", label, median, runs);
    return median;
  }

  public static double time(Callable<?> work) throws Exception {
    long start = System.nanoTime();
    work.call();
    return (System.nanoTime() - start) / 1e9;
  }

  public static double median(List<Double> values) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** Writes {@code factor} copies of a Parquet source into {@code target} (e.g. 10x the rows). */
  public static void replicate(SparkSession spark, String source, int factor, String target) {
    repeated(spark.read().parquet(source), factor).write().mode("overwrite").parquet(target);
  }

  /** The rows {@code factor} times over: the input of a scaling run (10x the rows). */
  public static org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> repeated(
      org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> rows, int factor) {
    org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> all = rows;
    for (int i = 1; i < factor; i++) {
      all = all.unionAll(rows);
    }
    return all;
  }

  /** A summary table for BENCHMARKS.md. */
  public static String markdown(List<Comparison> comparisons, Map<String, String> extraRows) {
    StringBuilder text =
        new StringBuilder("| what | kiln (s) | baseline (s) | ratio |\n|---|---|---|---|\n");
    for (Comparison c : comparisons) {
      text.append(
          String.format(
              Locale.ROOT,
              "| %s | %.2f | %.2f | %.3f |%n",
              c.label(),
              c.candidateSeconds(),
              c.baselineSeconds(),
              c.ratio()));
    }
    new LinkedHashMap<>(extraRows)
        .forEach((k, v) -> text.append("| ").append(k).append(" | ").append(v).append(" | | |\n"));
    return text.toString();
  }
}
