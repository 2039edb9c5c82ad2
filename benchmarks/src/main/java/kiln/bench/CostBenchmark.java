package kiln.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.cost.Usage;
import kiln.cost.UsageListener;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;

/**
 * {@code bin/kiln-bench cost [--rows N] [--partitions P] [--repetitions N] [--markdown FILE]}: the
 * same task-heavy job (a range of N rows in P partitions, grouped, shuffled and written as Parquet:
 * many task-end events, the listener's cost is per event) with Kiln's usage listener attached and
 * measuring, and without it, alternating in one JVM. Target: the listener costs at most 2% (ratio
 * <= 1.02).
 */
public final class CostBenchmark {
  private CostBenchmark() {}

  public static void main(String[] args) throws Exception {
    long rows = 5_000_000;
    int partitions = 400;
    int repetitions = 7;
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--rows" -> rows = Long.parseLong(args[++i]);
        case "--partitions" -> partitions = Integer.parseInt(args[++i]);
        case "--repetitions" -> repetitions = Integer.parseInt(args[++i]);
        case "--markdown" -> markdown = Path.of(args[++i]);
        default -> {
          System.err.println(
              "kiln-bench cost: error: unknown argument "
                  + args[i]
                  + "\n  fix: use --rows N, --partitions P, --repetitions N, --markdown FILE");
          System.exit(2);
        }
      }
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
                    String.valueOf(partitions))));
    long n = rows;
    int p = partitions;
    try {
      Bench bench = new Bench(System.out, 1, repetitions);
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
      Bench.Comparison c =
          bench.compare(
              "a " + n + "-row, " + p + "-partition job with the usage listener vs without",
              () -> {
                UsageListener listener = UsageListener.attach(spark);
                UsageListener.Mark mark = listener.mark();
                job.run();
                Usage usage = listener.since(mark, spark.sparkContext());
                tasks[0] = usage.tasks();
                UsageListener.detach(spark);
                return usage;
              },
              () -> {
                job.run();
                return null;
              });
      String table =
          Bench.markdown(List.of(c), Map.of("tasks per job (measured)", String.valueOf(tasks[0])));
      System.out.println();
      System.out.println(table);
      boolean met = c.ratio() <= 1.02;
      System.out.println(
          "[bench] target "
              + (met ? "met" : "NOT met")
              + ": the listener costs at most 2% (ratio <= 1.02)");
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
                + ", repetitions "
                + repetitions
                + " (medians, alternating, after 1 warm-up)\n\n"
                + table
                + "\nTarget "
                + (met ? "met" : "NOT met")
                + ".\n");
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
