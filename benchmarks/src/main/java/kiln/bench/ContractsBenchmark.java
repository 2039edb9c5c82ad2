package kiln.bench;

import static kiln.contracts.internal.Scala.assertion;
import static kiln.contracts.internal.Scala.none;
import static kiln.contracts.internal.Scala.seq;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.sum;

import com.amazon.deequ.VerificationResult;
import com.amazon.deequ.VerificationSuite;
import com.amazon.deequ.analyzers.Analyzer;
import com.amazon.deequ.analyzers.Size;
import com.amazon.deequ.checks.Check;
import com.amazon.deequ.checks.CheckLevel;
import com.amazon.deequ.metrics.Metric;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import kiln.contracts.Contract;
import kiln.contracts.ContractCheck;
import kiln.contracts.ContractResult;
import kiln.contracts.MetricHistory;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.SparkProfile;
import kiln.core.SparkSessions;
import kiln.core.SparkSettings;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.jobs.demo.FlightsExamples;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code bin/kiln-bench contracts FLIGHTS_PARQUET [SCALES] [--repetitions N]}: Kiln's check of the
 * 20-rule flights contract against the same constraints written directly with Deequ's API, and
 * against a bare scan aggregating every column, alternating in one JVM, on a Delta table of the
 * flights sample at each scale (default 1,10: 3M and 30M rows). Targets: ratio at most 1.10 against
 * Deequ, at most 2.0 against the scan.
 */
public final class ContractsBenchmark {
  private ContractsBenchmark() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].startsWith("-")) {
      System.err.println(
          "usage: ContractsBenchmark FLIGHTS_PARQUET [SCALES, e.g. 1,10] [--repetitions N]");
      System.exit(2);
    }
    String source = args[0];
    List<Integer> scales = List.of(1, 10);
    int repetitions = 3;
    for (int i = 1; i < args.length; i++) {
      if (args[i].equals("--repetitions")) {
        repetitions = Integer.parseInt(args[++i]);
      } else {
        scales =
            java.util.Arrays.stream(args[i].split(","))
                .map(String::trim)
                .map(Integer::parseInt)
                .toList();
      }
    }
    Path work = Files.createTempDirectory("kiln-bench-contracts-");
    SparkSession spark =
        SparkSessions.create(
            new SparkSettings(
                SparkProfile.LOCAL, null, false, Map.of("spark.ui.showConsoleProgress", "false")));
    try {
      Bench bench = new Bench(System.out, 1, repetitions);
      Contract contract = FlightsExamples.contract();
      Datasets datasets = new Datasets(spark);
      List<Bench.Comparison> comparisons = new ArrayList<>();
      for (int scale : scales) {
        String parquet = source;
        if (scale > 1) {
          parquet = work.resolve("flights-x" + scale + ".parquet").toString();
          System.out.println("[bench] writing " + scale + "x the rows to " + parquet);
          Bench.replicate(spark, source, scale, parquet);
        }
        String table = work.resolve("flights-x" + scale).toString();
        System.out.println("[bench] writing the Delta table " + table);
        DatasetRef pinned =
            datasets
                .write(spark.read().parquet(parquet), table, WriteOptions.of(WriteMode.OVERWRITE))
                .written();
        Dataset<Row> data = datasets.read(pinned);
        long rows = data.count();
        String label = String.format(Locale.ROOT, "%dM rows", rows / 1_000_000);

        ContractCheck check = new ContractCheck(spark, m -> {});
        ContractResult verdict = check.check(contract, null, data, MetricHistory.none());
        System.out.println("[bench] " + verdict.summary());
        VerificationResult direct = deequ(data);
        System.out.println("[bench] Deequ directly: " + direct.status());

        comparisons.add(
            bench.compare(
                "contract check vs Deequ API, " + label,
                () -> check.check(contract, null, data, MetricHistory.none()),
                () -> deequ(data)));
        comparisons.add(
            bench.compare(
                "contract check vs bare scan, " + label,
                () -> check.check(contract, null, data, MetricHistory.none()),
                () -> bareScan(data)));
        delete(Path.of(table));
      }
      System.out.println();
      System.out.println(Bench.markdown(comparisons, new LinkedHashMap<>()));
      System.out.println(
          "Targets: ratio <= 1.10 against the Deequ API, <= 2.0 against the bare scan.");
    } finally {
      spark.stop();
      delete(work);
    }
  }

  /**
   * The flights contract's constraints written directly with Deequ's API: one check, one
   * VerificationSuite run, plus the row count an anomaly rule follows.
   */
  static VerificationResult deequ(Dataset<Row> data) {
    String cutoff =
        java.time.Instant.now()
            .minus(java.time.Duration.ofDays(1))
            .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
            .toString();
    Check check =
        new Check(CheckLevel.Error(), "flights", seq(List.of()))
            .isComplete("date", none(), none())
            .satisfies(
                "date >= TIMESTAMP_NTZ'2001-01-01 00:00:00' AND date < TIMESTAMP_NTZ'2001-07-02 00:00:00'",
                "date in sample range",
                assertion(x -> x == 1.0),
                none(),
                kiln.contracts.internal.Scala.list(List.of()),
                none())
            .isComplete("delay", none(), none())
            .hasMin("delay", assertion(x -> x >= -1440), none(), none())
            .hasMax("delay", assertion(x -> x <= 2000), none(), none())
            .hasMean("delay", assertion(x -> x >= 0 && x <= 30), none())
            .hasStandardDeviation("delay", assertion(x -> x >= 10 && x <= 80), none())
            .isComplete("distance", none(), none())
            .hasMin("distance", assertion(x -> x > 0), none(), none())
            .hasMax("distance", assertion(x -> x <= 6000), none(), none())
            .hasMean("distance", assertion(x -> x >= 400 && x <= 1500), none())
            .hasApproxQuantile("distance", 0.5, assertion(x -> x >= 300 && x <= 1500), none())
            .isComplete("origin", none(), none())
            .hasPattern(
                "origin",
                new scala.util.matching.Regex("^[A-Z0-9]{3}$", seq(List.<String>of())),
                assertion(x -> x == 1.0),
                none(),
                none(),
                none())
            .isComplete("destination", none(), none())
            .hasPattern(
                "destination",
                new scala.util.matching.Regex("^[A-Z0-9]{3}$", seq(List.<String>of())),
                assertion(x -> x == 1.0),
                none(),
                none(),
                none())
            .hasSize(assertion(x -> x >= 100_000 && x <= 100_000_000), none())
            .satisfies(
                "origin <> destination",
                "origin is not destination",
                assertion(x -> x == 1.0),
                none(),
                kiln.contracts.internal.Scala.list(List.of()),
                none());
    Check freshness =
        new Check(CheckLevel.Warning(), "freshness", seq(List.of()))
            .satisfies(
                "date >= TIMESTAMP'" + cutoff + "'",
                "fresh",
                assertion(x -> x > 0),
                none(),
                kiln.contracts.internal.Scala.list(List.of()),
                none());
    @SuppressWarnings({"unchecked", "rawtypes"})
    Analyzer<?, Metric<?>> size = (Analyzer) new Size(none());
    return new VerificationSuite()
        .onData(data)
        .addCheck(check)
        .addCheck(freshness)
        .addRequiredAnalyzer(size)
        .run();
  }

  /**
   * One job aggregating every column: counts, minimums, maximums, and sums and means of the
   * numbers.
   */
  static Row bareScan(Dataset<Row> data) {
    List<Column> aggregates = new ArrayList<>();
    aggregates.add(count(lit(1)));
    for (String c : data.columns()) {
      aggregates.add(count(col(c)));
      aggregates.add(min(col(c)));
      aggregates.add(max(col(c)));
    }
    for (String c : List.of("delay", "distance")) {
      aggregates.add(sum(col(c)));
      aggregates.add(avg(col(c)));
    }
    return data.agg(
            aggregates.get(0), aggregates.subList(1, aggregates.size()).toArray(Column[]::new))
        .first();
  }

  static void delete(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }

  static String today() {
    return LocalDate.now().toString();
  }
}
