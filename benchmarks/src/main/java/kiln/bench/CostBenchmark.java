package kiln.bench;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.cost.Usage;
import kiln.cost.UsageListener;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * {@code bin/kiln-bench cost [--rows N] [--partitions P] [--pairs N] [--jobs-per-run K] [--markdown
 * FILE]}: what Kiln's usage listener costs a job, two ways.
 *
 * <ol>
 *   <li>End to end: the same task-heavy job (a range of N rows in P partitions, grouped, shuffled
 *       and written as Parquet: many task-end events, and the listener's work is per event) run
 *       with the listener attached and measuring, and without it. Runs come in pairs, the order
 *       alternating (with-without, then without-with), each run doing the job K times so that a run
 *       lasts seconds; the result is the median of the pairs' ratios, whose spread (interquartile
 *       range) says whether the machine was quiet enough to tell 2% apart.
 *   <li>Direct: the listener's own CPU time per task-end event (the job's recorded events fed to it
 *       again, timed with the thread's CPU clock, which other processes' load hardly moves), times
 *       the events of one job, over the job's time.
 * </ol>
 *
 * Target: the listener costs at most 2% of job time.
 */
public final class CostBenchmark {
  private CostBenchmark() {}

  /** The outcome of the end-to-end pairs. */
  record Pairs(List<Double> with, List<Double> without, List<Double> ratios) {
    double median() {
      return Bench.median(ratios);
    }

    double quartile(double q) {
      List<Double> sorted = new ArrayList<>(ratios);
      sorted.sort(null);
      double pos = q * (sorted.size() - 1);
      int lo = (int) Math.floor(pos);
      int hi = (int) Math.ceil(pos);
      return sorted.get(lo) + (sorted.get(hi) - sorted.get(lo)) * (pos - lo);
    }

    /** The spread of the ratios is under twice the bound: 2% could be told apart. */
    boolean conclusive() {
      return quartile(0.75) - quartile(0.25) <= 0.04;
    }
  }

  /** Keeps every task-end event of the jobs it sees (the direct measure replays them). */
  static final class Recorder extends SparkListener {
    final List<SparkListenerTaskEnd> events = new ArrayList<>();

    @Override
    public synchronized void onTaskEnd(SparkListenerTaskEnd end) {
      events.add(end);
    }
  }

  public static void main(String[] args) throws Exception {
    long rows = 2_000_000;
    int partitions = 200;
    int pairs = 9;
    int jobsPerRun = 2;
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--partitions" -> partitions = Integer.parseInt(args[++i]);
        case "--pairs", "--repetitions" -> pairs = Integer.parseInt(args[++i]);
        case "--jobs-per-run" -> jobsPerRun = Integer.parseInt(args[++i]);
        case "--markdown" -> markdown = Path.of(args[++i]);
        default -> {
          System.err.println(
              "kiln-bench cost: error: unknown argument "
                  + args[i]
                  + "\n  fix: use --rows N, --partitions P, --pairs N, --jobs-per-run K,"
                  + " --markdown FILE");
          System.exit(2);
        }
      }
    }
    if (pairs < 3 || jobsPerRun < 1 || rows < 1 || partitions < 1) {
      System.err.println(
          "kiln-bench cost: error: --pairs must be >= 3 and --rows, --partitions, --jobs-per-run"
              + " >= 1\n  fix: e.g. --pairs 9 --jobs-per-run 2");
      System.exit(2);
    }
    Path work = Files.createTempDirectory("kiln-bench-cost-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL,
                null,
                false,
                Map.of(
                    "spark.ui.showConsoleProgress",
                    "false",
                    "spark.sql.shuffle.partitions",
                    String.valueOf(partitions),
                    // keep every shuffle partition a task: more task-end events per job, which is
                    // where the listener works (adaptive execution would coalesce them to a few)
                    "spark.sql.adaptive.coalescePartitions.enabled",
                    "false")));
    long n = rows;
    int p = partitions;
    int k = jobsPerRun;
    try {
      int[] run = {0};
      Runnable job =
          () ->
              spark
                  .range(0, n, 1, p)
                  .withColumn("k", functions.col("id").mod(1000))
                  .groupBy("k")
                  .agg(functions.sum("id"), functions.count("id"))
                  .write()
                  .mode("overwrite")
                  .parquet(work.resolve("out-" + (run[0]++ % 2)).toString());
      long[] tasks = {0};
      java.util.concurrent.Callable<Object> with =
          () -> {
            UsageListener listener = UsageListener.attach(spark);
            UsageListener.Mark mark = listener.mark();
            for (int j = 0; j < k; j++) {
              job.run();
            }
            Usage usage = listener.since(mark, spark.sparkContext());
            tasks[0] = usage.tasks() / k;
            UsageListener.detach(spark);
            return usage;
          };
      java.util.concurrent.Callable<Object> without =
          () -> {
            for (int j = 0; j < k; j++) {
              job.run();
            }
            // the same wait for the listener bus as the measured side does
            spark.sparkContext().listenerBus().waitUntilEmpty();
            return null;
          };
      System.out.println("[bench] warm-up: one run each");
      with.call();
      without.call();
      List<Double> withRuns = new ArrayList<>();
      List<Double> withoutRuns = new ArrayList<>();
      List<Double> ratios = new ArrayList<>();
      for (int i = 0; i < pairs; i++) {
        double a;
        double b;
        if (i % 2 == 0) {
          a = Bench.time(with);
          b = Bench.time(without);
        } else {
          b = Bench.time(without);
          a = Bench.time(with);
        }
        withRuns.add(a);
        withoutRuns.add(b);
        ratios.add(a / b);
        System.out.printf(
            Locale.ROOT,
            "[bench] pair %d/%d: with the listener %.2f s, without %.2f s, ratio %.3f%n",
            i + 1,
            pairs,
            a,
            b,
            a / b);
      }
      Pairs result = new Pairs(withRuns, withoutRuns, ratios);

      // direct: the listener's CPU time per task-end event, replaying one job's events
      Recorder recorder = new Recorder();
      spark.sparkContext().addSparkListener(recorder);
      job.run();
      spark.sparkContext().listenerBus().waitUntilEmpty();
      spark.sparkContext().removeSparkListener(recorder);
      List<SparkListenerTaskEnd> events = List.copyOf(recorder.events);
      double jobSeconds = Bench.median(withoutRuns) / k;
      UsageListener listener = UsageListener.attach(spark);
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      int rounds = Math.max(1, 200_000 / Math.max(1, events.size()));
      for (SparkListenerTaskEnd e : events) {
        listener.onTaskEnd(e); // warm the JIT
      }
      long cpu0 = threads.getCurrentThreadCpuTime();
      for (int r = 0; r < rounds; r++) {
        for (SparkListenerTaskEnd e : events) {
          listener.onTaskEnd(e);
        }
      }
      double nsPerEvent =
          (threads.getCurrentThreadCpuTime() - cpu0) / (double) (rounds * events.size());
      UsageListener.detach(spark);
      double directShare = events.size() * nsPerEvent / 1e9 / jobSeconds;

      String table =
          String.format(
              Locale.ROOT,
              "| what | figure |%n|---|---|%n"
                  + "| job | %d rows, %d partitions, %d task-end events, median %.2f s |%n"
                  + "| end to end: %d pairs of runs (each run the job %d times), order alternating"
                  + " | median ratio %.3f, interquartile range %.3f-%.3f, all %.3f-%.3f |%n"
                  + "| medians of the runs | with %.2f s, without %.2f s |%n"
                  + "| direct: the listener's CPU per task-end event (thread CPU clock, %d"
                  + " events replayed) | %.0f ns |%n"
                  + "| direct: one job's events x that / the job's time | %.2g%% |%n",
              n,
              p,
              events.size(),
              jobSeconds,
              pairs,
              k,
              result.median(),
              result.quartile(0.25),
              result.quartile(0.75),
              ratios.stream().mapToDouble(Double::doubleValue).min().orElse(0),
              ratios.stream().mapToDouble(Double::doubleValue).max().orElse(0),
              Bench.median(withRuns),
              Bench.median(withoutRuns),
              rounds * events.size(),
              nsPerEvent,
              100 * directShare);
      String verdict =
          (result.conclusive()
                  ? "End to end: conclusive (interquartile range of the ratios within 0.04); target "
                      + (result.median() <= 1.02 ? "met" : "NOT met")
                      + " (median ratio <= 1.02)."
                  : "End to end: INCONCLUSIVE: the ratios spread by more than 0.04 (interquartile),"
                      + " so this machine's load hides a 2% difference.")
              + " Direct: the listener's own work is "
              + String.format(Locale.ROOT, "%.2g%%", 100 * directShare)
              + " of the job's time: target "
              + (directShare <= 0.02 ? "met" : "NOT met")
              + ".";
      System.out.println();
      System.out.println(table);
      System.out.println("[bench] " + verdict);
      if (markdown != null) {
        String when = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        Files.writeString(
            markdown,
            "Measured "
                + when
                + ", "
                + Runtime.getRuntime().availableProcessors()
                + " cores, Spark "
                + spark.version()
                + ", load average at the end "
                + String.format(
                    Locale.ROOT,
                    "%.2f",
                    ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage())
                + "\n\n"
                + table
                + "\n"
                + verdict
                + "\n");
      }
    } finally {
      spark.stop();
      try (var paths = Files.walk(work)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(path);
        }
      }
    }
  }
}
