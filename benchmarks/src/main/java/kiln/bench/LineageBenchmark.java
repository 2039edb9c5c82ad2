package kiln.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.LocalFiles;
import kiln.core.PinnedTable;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.models.ModelFiles;
import kiln.core.tracking.TrackedRun;
import kiln.core.tracking.Tracking;
import kiln.inference.ScoreJob;
import kiln.inference.ScoreResult;
import kiln.ingest.IngestJob;
import kiln.ingest.IngestResult;
import kiln.ingest.IngestSpec;
import kiln.ingest.SourceFormat;
import kiln.jobs.data.SampleData;
import kiln.lineage.Lineage;
import ml.dmlc.xgboost4j.scala.spark.XGBoostClassifier;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/kiln-bench lineage [FLIGHTS_PARQUET] [--pairs N] [--warmups W] [--no-score]
 * [--control] [--markdown FILE]}: what lineage (the triad's tags; START and COMPLETE events with
 * version, storage, schema and column-lineage facets, appended to the file transport) adds to
 * Kiln's ingest of the flights sample into a new Delta table, and to Kiln's scoring of April-June
 * with an XGBoost model into a new Delta table. Each job runs inside a run with lineage and inside
 * a run that records nothing (no MLflow on either side), in one JVM.
 *
 * <p>Method: W warm-up pairs of both sides (class loading, JIT, the first event file), then N pairs
 * whose order alternates (with-without, then without-with); the wall-clock result is the median of
 * the pairs' ratios with its interquartile range. Beside the clock, measures that the machine's
 * load hardly moves, per run: the Spark jobs started, the bytes read from local files (Hadoop's
 * statistics: the source and Delta's log), the process's CPU time and GC time, and lineage's own
 * time (opening the run with START, ending it with COMPLETE, reading the written frame's column
 * lineage). {@code --control} also runs the without side against itself (an A/A comparison): the
 * spread that is the method's own. Target: ratio at most 1.02.
 */
public final class LineageBenchmark {
  /** A run that records nothing: the baseline for what lineage adds. */
  private static final class NothingRun implements TrackedRun {
    @Override
    public String id() {
      return "00000000000000000000000000000000";
    }

    @Override
    public String url() {
      return "none";
    }

    @Override
    public void logParams(Map<String, String> params) {}

    @Override
    public void logMetrics(Map<String, Double> metrics) {}

    @Override
    public void logMetric(String key, double value, long step) {}

    @Override
    public void setTags(Map<String, String> tags) {}

    @Override
    public void logArtifact(Path file, String artifactPath) {}

    @Override
    public void logText(String text, String artifactPath) {}

    @Override
    public void logInput(DatasetRef pinned, String context) {}

    @Override
    public void finish() {}

    @Override
    public void fail(Throwable error) {}

    @Override
    public void close() {}
  }

  /** A job run in a run: what it writes goes under {@code table}. */
  @FunctionalInterface
  private interface Job {
    void run(TrackedRun run, Path table) throws Exception;
  }

  /** What one run cost. */
  record Cost(double wall, double cpu, double gc, long sparkJobs, long bytesRead, double lineage) {}

  /** Counts the Spark jobs started. */
  private static final class Jobs extends SparkListener {
    final AtomicLong started = new AtomicLong();

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
      started.incrementAndGet();
    }
  }

  private final SparkSession spark;
  private final Jobs jobs = new Jobs();
  private final Lineage lineage;
  private final Path work;
  private final AtomicInteger counter = new AtomicInteger();

  /** Lineage's own time in the first run with it, per job: its cost on first use in a JVM. */
  private final java.util.Map<String, Double> firstUse = new java.util.HashMap<>();

  /** Lineage's column-lineage reading, timed beside lineage's own (see {@link #timed}). */
  private final List<Double> columnSeconds = new CopyOnWriteArrayList<>();

  private LineageBenchmark(SparkSession spark, Path work) {
    this.spark = spark;
    this.work = work;
    this.lineage = Lineage.open(work.resolve("workdir"), Map.of(), notice -> {});
    spark.sparkContext().addSparkListener(jobs);
  }

  public static void main(String[] args) throws Exception {
    int pairs = 7;
    int warmups = 2;
    boolean score = true;
    boolean control = false;
    String source = null;
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--pairs", "--repetitions" -> pairs = Integer.parseInt(args[++i]);
        case "--warmups" -> warmups = Integer.parseInt(args[++i]);
        case "--no-score" -> score = false;
        case "--control" -> control = true;
        case "--markdown" -> markdown = Path.of(args[++i]);
        default -> {
          if (args[i].startsWith("--")) {
            System.err.println(
                "kiln-bench lineage: error: unknown option "
                    + args[i]
                    + "\n  fix: use --pairs N, --warmups W, --no-score, --control, --markdown FILE");
            System.exit(2);
          }
          source = args[i];
        }
      }
    }
    if (pairs < 3 || warmups < 1) {
      System.err.println(
          "kiln-bench lineage: error: --pairs must be >= 3 and --warmups >= 1\n"
              + "  fix: e.g. --pairs 7 --warmups 2");
      System.exit(2);
    }
    if (source == null) {
      source =
          SampleData.flights(SampleData.defaultCacheDir(), m -> System.out.println("[bench] " + m))
              .toString();
    }
    String input = source;
    Path work = Files.createTempDirectory("kiln-bench-lineage-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    StringBuilder report = new StringBuilder();
    boolean met = true;
    try {
      LineageBenchmark bench = new LineageBenchmark(spark, work);
      Job ingest =
          (run, table) -> {
            IngestResult result =
                new IngestJob(spark, m -> {})
                    .run(IngestSpec.of(input, SourceFormat.PARQUET, table.toString()));
            // as `kiln ingest` reports it: the source files and the new version
            run.logSourceFiles(input, "parquet");
            run.logInput(result.table(), "output");
          };
      met &=
          bench.compare(
              "kiln ingest of the flights sample (3M rows, Parquet) -> Delta",
              "ingest",
              ingest,
              warmups,
              pairs,
              control,
              report);
      if (score) {
        met &=
            bench.compare(
                "kiln score of April-June (1.5M rows, XGBoost) -> Delta",
                "score",
                bench.scoring(input),
                warmups,
                pairs,
                control,
                report);
      }
      System.out.println();
      System.out.println(report);
      System.out.println(
          "[bench] target "
              + (met ? "met" : "NOT met")
              + ": lineage costs at most 2% (median pair ratio <= 1.02)");
      if (markdown != null) {
        String when = ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
        Files.writeString(
            markdown,
            "Measured "
                + when
                + ", "
                + warmups
                + " warm-up pair(s), "
                + pairs
                + " pairs, order alternating\n\n"
                + report
                + "\nTarget "
                + (met ? "met" : "NOT met")
                + ".\n");
      }
    } finally {
      spark.stop();
      LocalFiles.deleteTree(work);
    }
  }

  /**
   * A model trained on January-March (a quick one: the benchmark is of lineage, not of the model)
   * and a scoring job of April-June with it, as {@code kiln score} runs and reports it.
   */
  private Job scoring(String source) throws Exception {
    FlightsScoring.SetUp setUp =
        FlightsScoring.prepare(
            spark,
            source,
            work,
            rows -> {
              XGBoostClassifier classifier = new XGBoostClassifier();
              classifier.setFeaturesCol(ModelFiles.FEATURES_VECTOR);
              classifier.setLabelCol("label");
              classifier.setObjective("binary:logistic");
              classifier.setMaxDepth(4);
              classifier.setNumRound(10);
              classifier.setNumWorkers(1);
              classifier.setNthread(1);
              classifier.setDevice("cpu");
              return classifier.fit(ModelFiles.assemble(rows, List.of(FlightsScoring.FEATURES)));
            });
    ModelFiles model = setUp.files();
    Tracking.ModelVersion version = setUp.version();
    PinnedTable input = setUp.input();
    ScoreJob job = new ScoreJob(spark, null);
    return (run, table) -> {
      ScoreResult result = job.score(model, version, input, table.toString());
      // as ScoreJob reports a `kiln score` run: input and output versions, the model
      run.logInput(result.input(), "input");
      run.logInput(result.output(), "output");
      run.setTags(Map.of("kiln.model", "bench", "kiln.model_version", "1"));
    };
  }

  /**
   * The job in a run with lineage, lineage's own time measured: opening the run (START), ending it
   * (COMPLETE: schema facets from the Delta log), and reading the written frames' column lineage
   * (read a second time beside lineage's own reading and timed: the "with" side does that work
   * twice, which only makes it look dearer).
   */
  private Cost withLineage(String kind, Job job) throws Exception {
    Path table = work.resolve(kind + "-with-" + counter.incrementAndGet());
    int columnsBefore = columnSeconds.size();
    return measure(
        () -> {
          long started = System.nanoTime();
          TrackedRun run =
              lineage.run(
                  new NothingRun(), kind + " " + table, Map.of("kiln.job", kind), null, null);
          long opened = System.nanoTime();
          try (AutoCloseable timing =
              Datasets.observeWrites(
                  (data, written, known) -> {
                    long before = System.nanoTime();
                    kiln.lineage.ColumnLineage.of(data, known.orElse(null));
                    columnSeconds.add((System.nanoTime() - before) / 1e9);
                  })) {
            job.run(run, table);
          }
          long ran = System.nanoTime();
          run.finish();
          double columns = 0;
          for (double s : columnSeconds.subList(columnsBefore, columnSeconds.size())) {
            columns += s;
          }
          return ((opened - started) + (System.nanoTime() - ran)) / 1e9 + columns;
        },
        table);
  }

  private Cost without(String kind, Job job) throws Exception {
    Path table = work.resolve(kind + "-without-" + counter.incrementAndGet());
    return measure(
        () -> {
          TrackedRun run = new NothingRun();
          job.run(run, table);
          run.finish();
          return 0.0;
        },
        table);
  }

  @FunctionalInterface
  private interface Timed {
    double run() throws Exception;
  }

  /**
   * Runs {@code work} and measures it; the written table is deleted afterwards, outside the
   * measures, and the listener bus drained so that the next run starts alike.
   */
  private Cost measure(Timed work, Path table) throws Exception {
    com.sun.management.OperatingSystemMXBean os =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    long jobsBefore = jobs.started.get();
    long readBefore = bytesRead();
    long cpuBefore = os.getProcessCpuTime();
    long gcBefore = gcMillis();
    long started = System.nanoTime();
    double lineageSeconds = work.run();
    double wall = (System.nanoTime() - started) / 1e9;
    double cpu = (os.getProcessCpuTime() - cpuBefore) / 1e9;
    double gc = (gcMillis() - gcBefore) / 1e3;
    spark.sparkContext().listenerBus().waitUntilEmpty();
    long sparkJobs = jobs.started.get() - jobsBefore;
    LocalFiles.deleteTree(table);
    return new Cost(wall, cpu, gc, sparkJobs, bytesRead() - readBefore, lineageSeconds);
  }

  /**
   * Bytes this JVM read through Hadoop's local file system (Spark's and Delta's reads: the source,
   * the transaction log): the statistics of every local file system class, since the checksummed
   * one and the raw one it wraps keep their own. (Its read-operation counters stay at 0 for local
   * files, so bytes are what is compared.)
   */
  @SuppressWarnings("deprecation")
  private static long bytesRead() {
    long total = 0;
    for (org.apache.hadoop.fs.FileSystem.Statistics statistics :
        org.apache.hadoop.fs.FileSystem.getAllStatistics()) {
      if ("file".equals(statistics.getScheme())) {
        total += statistics.getBytesRead();
      }
    }
    return total;
  }

  private static long gcMillis() {
    long total = 0;
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      total += Math.max(0, gc.getCollectionTime());
    }
    return total;
  }

  /**
   * Warm-up pairs, then alternating pairs; the report's rows appended to {@code report}. True when
   * the median pair ratio is at most 1.02.
   */
  private boolean compare(
      String label,
      String kind,
      Job job,
      int warmups,
      int pairs,
      boolean control,
      StringBuilder report)
      throws Exception {
    for (int i = 0; i < warmups; i++) {
      Cost a;
      Cost b;
      if (i % 2 == 0) {
        a = withLineage(kind, job);
        b = without(kind, job);
      } else {
        b = without(kind, job);
        a = withLineage(kind, job);
      }
      // the first run with lineage pays its first use in the JVM (class loading, the event file,
      // a cold JIT), as every `kiln` command does once
      System.out.printf(
          Locale.ROOT,
          "[bench] %s: warm-up pair %d/%d: with lineage %.2f s (lineage's own %.4f s), without"
              + " %.2f s%n",
          kind,
          i + 1,
          warmups,
          a.wall(),
          a.lineage(),
          b.wall());
      if (i == 0) {
        firstUse.put(kind, a.lineage());
      }
    }
    List<Cost> with = new ArrayList<>();
    List<Cost> base = new ArrayList<>();
    List<Double> ratios = new ArrayList<>();
    for (int i = 0; i < pairs; i++) {
      Cost a;
      Cost b;
      if (i % 2 == 0) {
        a = withLineage(kind, job);
        b = without(kind, job);
      } else {
        b = without(kind, job);
        a = withLineage(kind, job);
      }
      with.add(a);
      base.add(b);
      ratios.add(a.wall() / b.wall());
      System.out.printf(
          Locale.ROOT,
          "[bench] %s pair %d/%d (%s first): with lineage %.2f s (cpu %.2f, gc %.2f, %d Spark"
              + " jobs), without %.2f s (cpu %.2f, gc %.2f, %d Spark jobs), ratio %.3f,"
              + " lineage's own %.4f s%n",
          kind,
          i + 1,
          pairs,
          i % 2 == 0 ? "with" : "without",
          a.wall(),
          a.cpu(),
          a.gc(),
          a.sparkJobs(),
          b.wall(),
          b.cpu(),
          b.gc(),
          b.sparkJobs(),
          ratios.get(i),
          a.lineage());
    }
    List<Double> controlRatios = new ArrayList<>();
    if (control) {
      for (int i = 0; i < pairs; i++) {
        Cost a = without(kind, job);
        Cost b = without(kind, job);
        controlRatios.add(i % 2 == 0 ? a.wall() / b.wall() : b.wall() / a.wall());
        System.out.printf(
            Locale.ROOT,
            "[bench] %s control pair %d/%d: %.2f s, %.2f s%n",
            kind,
            i + 1,
            pairs,
            a.wall(),
            b.wall());
      }
    }
    double ratio = Bench.median(ratios);
    double own = median(with, Cost::lineage);
    double baseWall = median(base, Cost::wall);
    if (report.length() == 0) {
      report.append("| measure | with lineage | without | with / without |\n|---|---|---|---|\n");
    }
    report.append(String.format(Locale.ROOT, "| **%s** | | | |%n", label));
    row(report, "wall (s), median", median(with, Cost::wall), baseWall, "%.2f");
    report.append(
        String.format(
            Locale.ROOT,
            "| wall, median of %d pair ratios (interquartile range; all) | | | **%.3f** (%.3f-%.3f;"
                + " %.3f-%.3f) |%n",
            pairs,
            ratio,
            quartile(ratios, 0.25),
            quartile(ratios, 0.75),
            quartile(ratios, 0),
            quartile(ratios, 1)));
    if (control) {
      report.append(
          String.format(
              Locale.ROOT,
              "| control: without vs without, median of %d pair ratios (interquartile range) | | |"
                  + " %.3f (%.3f-%.3f) |%n",
              pairs,
              Bench.median(controlRatios),
              quartile(controlRatios, 0.25),
              quartile(controlRatios, 0.75)));
    }
    row(
        report,
        "process CPU (s), median",
        median(with, Cost::cpu),
        median(base, Cost::cpu),
        "%.2f");
    row(report, "GC time (s), median", median(with, Cost::gc), median(base, Cost::gc), "%.3f");
    row(
        report,
        "Spark jobs per run, median",
        median(with, c -> (double) c.sparkJobs()),
        median(base, c -> (double) c.sparkJobs()),
        "%.0f");
    row(
        report,
        "bytes read from local files per run (MB), median",
        median(with, c -> c.bytesRead() / 1e6),
        median(base, c -> c.bytesRead() / 1e6),
        "%.3f");
    report.append(
        String.format(
            Locale.ROOT,
            "| lineage's own time per run, median (s); / the without side's wall | %.4f | | %.4f"
                + " |%n",
            own,
            own / baseWall));
    report.append(
        String.format(
            Locale.ROOT,
            "| lineage's own time in its first run of this job (s; ingest's is the JVM's first"
                + " use) | %.4f | | |%n",
            firstUse.getOrDefault(kind, Double.NaN)));
    System.out.printf(
        Locale.ROOT,
        "[bench] %s: median pair ratio %.3f (IQR %.3f-%.3f), lineage's own %.4f s a run%n",
        kind,
        ratio,
        quartile(ratios, 0.25),
        quartile(ratios, 0.75),
        own);
    return ratio <= 1.02;
  }

  private static void row(StringBuilder report, String what, double with, double base, String f) {
    report.append(
        String.format(
            Locale.ROOT,
            "| %s | " + f + " | " + f + " | %s |%n",
            what,
            with,
            base,
            base == 0 ? "" : String.format(Locale.ROOT, "%.3f", with / base)));
  }

  private static double median(List<Cost> costs, java.util.function.ToDoubleFunction<Cost> f) {
    List<Double> values = new ArrayList<>();
    costs.forEach(c -> values.add(f.applyAsDouble(c)));
    return Bench.median(values);
  }

  private static double quartile(List<Double> values, double q) {
    List<Double> sorted = new ArrayList<>(values);
    sorted.sort(null);
    double pos = q * (sorted.size() - 1);
    int lo = (int) Math.floor(pos);
    int hi = (int) Math.ceil(pos);
    return sorted.get(lo) + (sorted.get(hi) - sorted.get(lo)) * (pos - lo);
  }
}
