package kiln.bench;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.drift.DriftConfig;
import kiln.drift.DriftMonitor;
import kiln.drift.DriftResult;
import kiln.drift.Statistic;
import kiln.drift.internal.DriftEngine;
import kiln.drift.internal.Profiler;
import kiln.drift.internal.SideProfile;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/kiln-bench drift FLIGHTS_PARQUET [--repetitions N] [--markdown FILE]}: the drift job
 * (January-March against April-June, every column of the flights data, both sides profiled in one
 * pass each, every statistic) against a bare scan that aggregates every column of both sides,
 * alternating in one JVM, at 3M and 30M rows; and the drift job with one statistic against all of
 * them. Targets: ratio at most 1.5; time(30M) / time(3M) at most 11; more statistics change the
 * time by at most 10%.
 *
 * <p>With {@code --vs evidently,nannyml}: Kiln against those tools, see {@link
 * DriftPeersBenchmark}.
 */
public final class DriftBenchmark {
  static final String FIRST_QUARTER = "date < '2001-04-01'";
  static final String SECOND_QUARTER = "date >= '2001-04-01'";

  private DriftBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (List.of(args).contains("--vs") || List.of(args).contains("--kiln-side")) {
      DriftPeersBenchmark.main(args);
      return;
    }
    int repetitions = 5;
    String source = null;
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--repetitions" -> repetitions = Integer.parseInt(args[++i]);
        case "--markdown" -> markdown = Path.of(args[++i]);
        default -> source = args[i];
      }
    }
    if (source == null || !Files.exists(Path.of(source))) {
      System.err.println(
          "kiln-bench drift: error: give the flights parquet file, e.g. /tmp/kiln-data/flights-3m.parquet"
              + (source == null ? "" : " (" + source + " does not exist)")
              + "\n  fix: fetch it with `bin/kiln data fetch` and pass its path");
      System.exit(2);
    }
    Path work = Files.createTempDirectory("kiln-bench-drift-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try {
      Bench bench = new Bench(System.out, 1, repetitions);
      String tenfold = work.resolve("flights-30m.parquet").toString();
      System.out.println("[bench] writing 10x the rows to " + tenfold);
      Bench.replicate(spark, source, 10, tenfold);

      DriftConfig all = DriftConfig.defaults();
      DriftConfig psiOnly = all.withStatistics(List.of(Statistic.PSI));
      List<Bench.Comparison> comparisons = new ArrayList<>();
      Map<String, String> extra = new LinkedHashMap<>();
      double[] driftSeconds = new double[2];
      String[][] inputs = {{"3M rows", source}, {"30M rows", tenfold}};
      for (int i = 0; i < inputs.length; i++) {
        Dataset<Row> flights = spark.read().parquet(inputs[i][1]);
        Dataset<Row> reference = flights.where(FIRST_QUARTER);
        Dataset<Row> current = flights.where(SECOND_QUARTER);
        DriftResult sample = new DriftMonitor(spark, all).compare(reference, current);
        System.out.println(
            "[bench] "
                + inputs[i][0]
                + ": "
                + sample.summary()
                + "; exact columns: "
                + sample.features().stream().filter(f -> f.exact()).map(f -> f.name()).toList());
        Bench.Comparison c =
            bench.compare(
                "drift (all statistics) vs bare scan (count, min, max of every column), "
                    + inputs[i][0],
                () -> new DriftMonitor(spark, all).compare(reference, current),
                () -> bothSides(() -> bareScan(reference), () -> bareScan(current)));
        comparisons.add(c);
        driftSeconds[i] = c.candidateSeconds();
        if (i == 0) {
          comparisons.add(
              bench.compare(
                  "drift (all statistics) vs bare scan (count of every column), " + inputs[i][0],
                  () -> new DriftMonitor(spark, all).compare(reference, current),
                  () -> bothSides(() -> countScan(reference), () -> countScan(current))));
          comparisons.add(
              bench.compare(
                  "drift, all 6 statistics vs PSI only, " + inputs[i][0],
                  () -> new DriftMonitor(spark, all).compare(reference, current),
                  () -> new DriftMonitor(spark, psiOnly).compare(reference, current)));
          extra.putAll(statisticsOnly(spark, reference, current, all, psiOnly));
        }
      }
      double scaling = driftSeconds[1] / driftSeconds[0];
      extra.put(
          "drift time(30M) / time(3M)", String.format(Locale.ROOT, "%.2f (target <= 11)", scaling));
      String table = Bench.markdown(comparisons, extra);
      System.out.println();
      System.out.println(table);
      boolean met =
          comparisons.get(0).ratio() <= 1.5
              && comparisons.get(1).ratio() <= 1.5
              && comparisons.get(3).ratio() <= 1.5
              && scaling <= 11
              && Math.abs(comparisons.get(2).ratio() - 1) <= 0.10;
      System.out.println(
          "[bench] targets "
              + (met ? "met" : "NOT met")
              + ": ratio <= 1.5 at 3M and 30M, 10x rows in <= 11x time, all statistics within 10% of one");
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
                + "\nTargets "
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

  /**
   * Both sides' scans at the same time, as the drift job profiles them: two Spark jobs, so that
   * neither side's parallelism (one file, one task here) favours one of the two.
   */
  static long bothSides(
      java.util.function.LongSupplier reference, java.util.function.LongSupplier current) {
    java.util.concurrent.CompletableFuture<Long> background =
        java.util.concurrent.CompletableFuture.supplyAsync(reference::getAsLong);
    long second = current.getAsLong();
    return background.join() + second;
  }

  /** One job over the side: the count of every column (the lightest scan that reads them all). */
  static long countScan(Dataset<Row> side) {
    List<Column> aggregates = new ArrayList<>();
    for (String name : side.columns()) {
      aggregates.add(count(col(name)));
    }
    return side.agg(
            aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
        .first()
        .getLong(0);
  }

  /**
   * The statistics alone, from profiles already built (what "adding statistics" costs):
   * milliseconds per comparison, all statistics and PSI only, median of 21.
   */
  static Map<String, String> statisticsOnly(
      SparkSession spark,
      Dataset<Row> reference,
      Dataset<Row> current,
      DriftConfig all,
      DriftConfig psiOnly) {
    Profiler profiler = new Profiler(all.exactDistinctLimit(), all.sketchK());
    DriftEngine engine = new DriftEngine(all);
    List<DriftEngine.Planned> plan = engine.plan(reference.schema(), current.schema());
    SideProfile r =
        new SideProfile(
            profiler.profile(
                reference, engine.profiledColumns(plan, reference.schema()), all.categoricalSet()),
            DriftEngine.types(reference.schema()),
            false);
    SideProfile c =
        new SideProfile(
            profiler.profile(
                current, engine.profiledColumns(plan, current.schema()), all.categoricalSet()),
            DriftEngine.types(current.schema()),
            false);
    Map<String, String> rows = new LinkedHashMap<>();
    for (DriftConfig config : List.of(all, psiOnly)) {
      DriftEngine decider = new DriftEngine(config);
      List<Double> runs = new ArrayList<>();
      for (int i = 0; i < 21; i++) {
        long start = System.nanoTime();
        decider.decide(plan, r, c);
        runs.add((System.nanoTime() - start) / 1e6);
      }
      rows.put(
          "statistics from the profiles only, "
              + config.statistics().size()
              + " statistic(s), 3M rows",
          String.format(Locale.ROOT, "%.1f ms", Bench.median(runs)));
    }
    return rows;
  }

  /** One job over the side: count, min and max of every column. */
  static long bareScan(Dataset<Row> side) {
    List<Column> aggregates = new ArrayList<>();
    for (String name : side.columns()) {
      aggregates.add(count(col(name)));
      aggregates.add(min(col(name)));
      aggregates.add(max(col(name)));
    }
    Row row =
        side.agg(aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
            .first();
    return row.getLong(0);
  }
}
