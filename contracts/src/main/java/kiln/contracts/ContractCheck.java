package kiln.contracts;

import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.current_timestamp;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.filter;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import kiln.contracts.internal.AnomalyEvaluation;
import kiln.contracts.internal.CompiledRule;
import kiln.contracts.internal.CompiledRule.Kind;
import kiln.contracts.internal.DeequVerification;
import kiln.contracts.internal.Expectation;
import kiln.contracts.internal.MetricsRepository;
import kiln.contracts.internal.RuleCompiler;
import kiln.contracts.internal.SchemaComparison;
import kiln.core.DatasetRef;
import kiln.core.Datasets;
import kiln.core.Errors;
import kiln.core.PinnedTable;
import kiln.core.WriteMode;
import kiln.core.WriteOptions;
import kiln.core.WriteResult;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Checks datasets against data contracts. {@link #check} is the pure part (a DataFrame in, a
 * verdict out: the schema compared first with no Spark job, then every Deequ rule in one pass);
 * {@link #run} adds the edges: the pinned Delta version, the metric history, quarantine, the clean
 * table and the reports.
 */
public final class ContractCheck {
  static final String VIEW = "__kiln_contract_data";
  static final int MAX_REFERENCE_VALUES = 10_000;

  private final SparkSession spark;
  private final Datasets datasets;
  private final Consumer<String> progress;
  private final Clock clock;

  public ContractCheck(SparkSession spark, Consumer<String> progress) {
    this(spark, progress, Clock.systemUTC());
  }

  private ContractCheck(SparkSession spark, Consumer<String> progress, Clock clock) {
    this.spark = Objects.requireNonNull(spark, "spark is null");
    this.datasets = new Datasets(spark);
    this.progress = Objects.requireNonNull(progress, "progress is null");
    this.clock = Objects.requireNonNull(clock, "clock is null");
  }

  /** The same check with another idea of "now" (freshness rules); for tests and replays. */
  public ContractCheck withClock(Clock other) {
    return new ContractCheck(spark, progress, other);
  }

  /** Checks a DataFrame against the contract's (only or named) schema object. Writes nothing. */
  public ContractResult check(
      Contract contract, String objectName, Dataset<Row> data, MetricHistory history) {
    long started = System.nanoTime();
    Instant now = clock.instant().truncatedTo(ChronoUnit.SECONDS);
    ContractObject object = contract.object(objectName);
    List<CompiledRule> rules = RuleCompiler.compile(object);

    List<SchemaDifference> differences = SchemaComparison.compare(object, data.schema());
    List<RuleResult> results = new ArrayList<>();
    if (!differences.isEmpty()) {
      String listing =
          differences.stream().map(SchemaDifference::describe).collect(Collectors.joining("; "));
      results.add(
          new RuleResult(
              "schema",
              Severity.ERROR,
              "schema",
              null,
              RuleResult.Status.FAILED,
              (double) differences.size(),
              "columns and types as declared",
              listing,
              false));
      for (CompiledRule rule : rules) {
        results.add(skipped(rule, "not checked: the schema differs"));
      }
      return new ContractResult(
          contract.id(),
          contract.version(),
          object.name(),
          null,
          -1,
          now,
          differences,
          results,
          List.of(),
          elapsed(started),
          contract.notChecked());
    }
    results.add(
        new RuleResult(
            "schema",
            Severity.ERROR,
            "schema",
            null,
            RuleResult.Status.PASSED,
            0.0,
            "columns and types as declared",
            null,
            false));

    List<CompiledRule> resolved = new ArrayList<>();
    for (CompiledRule rule : rules) {
      resolved.add(rule.kind() == Kind.VALUES_IN ? withReferenceValues(rule) : rule);
    }
    progress.accept(
        "checking "
            + resolved.size()
            + " rule(s) of "
            + contract.id()
            + " "
            + contract.version()
            + " in one Deequ pass");
    DeequVerification.Outcome outcome = DeequVerification.run(data, resolved, now);
    Map<String, Double> metricValues = new LinkedHashMap<>();
    outcome
        .metrics()
        .forEach(m -> metricValues.put(MetricsRepository.key(m.name(), m.instance()), m.value()));

    for (CompiledRule rule : resolved) {
      RuleResult result =
          switch (rule.kind()) {
            case NOT_CHECKED -> skipped(rule, rule.expectationText());
            case SQL -> sql(rule, data);
            case ANOMALY -> {
              String[] key = DeequVerification.anomalyMetricKey(rule);
              yield AnomalyEvaluation.evaluate(
                  rule,
                  metricValues.get(MetricsRepository.key(key[0], key[1])),
                  history.before(key[0], key[1]));
            }
            default -> outcome.results().get(rule.name());
          };
      results.add(result);
    }
    return new ContractResult(
        contract.id(),
        contract.version(),
        object.name(),
        null,
        outcome.rows(),
        now,
        differences,
        results,
        outcome.metrics(),
        elapsed(started),
        contract.notChecked());
  }

  /**
   * Checks a version of a Delta table and writes what follows from it: metrics, quarantine, clean
   * rows, reports.
   */
  public CheckRun run(CheckSpec spec) {
    return run(spec, datasets.pin(spec.data()));
  }

  /**
   * {@link #run(CheckSpec)} on the table the caller already pinned (the spec's data): resolves
   * nothing again.
   */
  public CheckRun run(CheckSpec spec, PinnedTable table) {
    if (!table.table().equals(spec.data().table())) {
      throw new IllegalArgumentException(
          "the pinned table " + table + " is not the spec's data " + spec.data());
    }
    DatasetRef pinned = table.ref();
    progress.accept("reading " + pinned);
    Dataset<Row> data = table.rows();
    MetricsRepository repository = new MetricsRepository(spark, spec.metricsTableOrDefault());
    Map<String, List<MetricsRepository.Point>> before = repository.before(pinned);
    ContractResult result =
        check(spec.contract(), spec.object(), data, MetricsRepository.history(before))
            .withDataset(pinned);

    Optional<DatasetRef> metrics = Optional.empty();
    if (!result.metrics().isEmpty()) {
      progress.accept(
          "appending " + result.metrics().size() + " metric(s) to " + repository.table());
      metrics =
          Optional.of(
              repository.save(
                  pinned,
                  spec.contract().id(),
                  spec.contract().version(),
                  result.metrics(),
                  result.checkedAt()));
    }

    List<CompiledRule> failedRowRules = failedRowLevelRules(spec, result);
    Optional<DatasetRef> quarantine = Optional.empty();
    long quarantined = 0;
    if (spec.quarantine() && !failedRowRules.isEmpty()) {
      progress.accept(
          "writing the rows that break "
              + failedRowRules.size()
              + " rule(s) to "
              + spec.quarantineTable());
      WriteResult written =
          datasets.write(
              quarantineRows(data, failedRowRules, pinned, spec.contract()),
              spec.quarantineTable(),
              new WriteOptions(
                  WriteMode.APPEND,
                  "contracts-quarantine:"
                      + spec.contract().id()
                      + ":"
                      + spec.contract().version()
                      + ":"
                      + pinned,
                  Map.of(
                      "kiln.job",
                      "contracts check",
                      "kiln.table",
                      pinned.table(),
                      "kiln.contract",
                      spec.contract().id())));
      quarantine = Optional.of(written.written());
      quarantined = written.rows();
    }
    Optional<DatasetRef> clean = Optional.empty();
    long cleanRows = 0;
    if (spec.cleanOutput() != null) {
      if (!result.schemaDifferences().isEmpty()) {
        progress.accept(
            "not writing " + spec.cleanOutput() + ": the schema differs from the contract");
      } else {
        progress.accept(
            "writing the rows that keep to every row-level rule to " + spec.cleanOutput());
        WriteResult written =
            datasets.write(
                cleanRows(data, failedRowRules),
                spec.cleanOutput(),
                new WriteOptions(
                    WriteMode.OVERWRITE,
                    // a re-run of the same check (a killed driver's retry) writes the clean table
                    // once: no second version with the same rows when it is already the latest
                    "contracts-clean:"
                        + spec.contract().id()
                        + ":"
                        + spec.contract().version()
                        + ":"
                        + pinned,
                    Map.of(
                        "kiln.job",
                        "contracts check",
                        "kiln.source",
                        pinned.toString(),
                        "kiln.contract",
                        spec.contract().id())));
        clean = Optional.of(written.written());
        cleanRows = written.rows();
      }
    }
    Path json = null;
    Path html = null;
    if (spec.reportDirectory() != null) {
      try {
        Files.createDirectories(spec.reportDirectory());
        json = spec.reportDirectory().resolve("report.json");
        html = spec.reportDirectory().resolve("report.html");
        Map<String, List<MetricsRepository.Point>> series = new LinkedHashMap<>(before);
        Files.writeString(json, ContractReports.json(result, quarantined, quarantine.orElse(null)));
        Files.writeString(
            html, ContractReports.html(result, historyWithCurrent(series, result, pinned)));
      } catch (IOException e) {
        throw Errors.badInput(
            "cannot write the reports to " + spec.reportDirectory() + ": " + e.getMessage(),
            "choose a writable --report-dir");
      }
    }
    return new CheckRun(result, quarantine, quarantined, clean, cleanRows, metrics, json, html);
  }

  /**
   * The rows with, for each, the names of the failed rules it breaks; only the rows breaking at
   * least one.
   */
  static Dataset<Row> quarantineRows(
      Dataset<Row> data, List<CompiledRule> failed, DatasetRef pinned, Contract contract) {
    List<Column> names = new ArrayList<>();
    for (CompiledRule rule : failed) {
      names.add(
          when(coalesce(expr(rule.rowCondition()), lit(false)).equalTo(false), lit(rule.name())));
    }
    Column reasons = filter(array(names.toArray(Column[]::new)), Column::isNotNull);
    String[] columns = data.columns();
    List<Column> all = new ArrayList<>();
    for (String c : columns) {
      all.add(col(CompiledRule.quote(c)));
    }
    return data.withColumn("__kiln_reasons", reasons)
        .filter(size(col("__kiln_reasons")).gt(0))
        .select(
            to_json(struct(all.toArray(Column[]::new))).as("raw_record"),
            col("__kiln_reasons").as("reasons"),
            lit("contract " + contract.id() + " " + contract.version()).as("source_file"),
            lit(pinned.table()).as("table"),
            lit(pinned.version()).as("table_version"),
            current_timestamp().as("quarantined_at"));
  }

  static Dataset<Row> cleanRows(Dataset<Row> data, List<CompiledRule> failed) {
    Dataset<Row> clean = data;
    for (CompiledRule rule : failed) {
      clean = clean.filter(coalesce(expr(rule.rowCondition()), lit(false)));
    }
    return clean;
  }

  private List<CompiledRule> failedRowLevelRules(CheckSpec spec, ContractResult result) {
    Map<String, RuleResult> byName = new LinkedHashMap<>();
    result.rules().forEach(r -> byName.put(r.name(), r));
    List<CompiledRule> failed = new ArrayList<>();
    for (CompiledRule rule : RuleCompiler.compile(spec.contract().object(result.object()))) {
      RuleResult verdict = byName.get(rule.name());
      if (rule.isRowLevel() && verdict != null && verdict.breaksContract()) {
        failed.add(rule);
      }
    }
    return failed;
  }

  private CompiledRule withReferenceValues(CompiledRule rule) {
    DatasetRef reference = DatasetRef.parse(rule.detail());
    String column = rule.values().get(0);
    Dataset<Row> other = datasets.read(reference);
    if (!java.util.Arrays.asList(other.columns()).contains(column)) {
      throw Errors.badInput(
          "rule '"
              + rule.name()
              + "': the reference dataset "
              + reference
              + " has no column '"
              + column
              + "'; it has "
              + Errors.quoted(java.util.Arrays.asList(other.columns())),
          "name the reference column with arguments.property");
    }
    progress.accept("reading the values of " + column + " in " + reference);
    List<Row> rows =
        other
            .select(col(CompiledRule.quote(column)).cast("string"))
            .distinct()
            .filter(col(CompiledRule.quote(column)).isNotNull())
            .limit(MAX_REFERENCE_VALUES + 1)
            .collectAsList();
    if (rows.size() > MAX_REFERENCE_VALUES) {
      throw Errors.badInput(
          "rule '"
              + rule.name()
              + "': "
              + reference
              + " has more than "
              + MAX_REFERENCE_VALUES
              + " distinct values in '"
              + column
              + "'",
          "check against a smaller reference (e.g. a dimension table)");
    }
    List<String> values = rows.stream().map(r -> r.getString(0)).toList();
    String q = CompiledRule.quote(rule.column());
    String condition =
        values.isEmpty()
            ? q + " IS NULL"
            : q
                + " IS NULL OR CAST("
                + q
                + " AS STRING) IN ("
                + values.stream().map(CompiledRule::literal).collect(Collectors.joining(", "))
                + ")";
    boolean all = rule.expectation().test(1) && !rule.expectation().test(1 - 1e-9);
    return rule.withValues(values, all ? condition : null);
  }

  private RuleResult sql(CompiledRule rule, Dataset<Row> data) {
    data.createOrReplaceTempView(VIEW);
    Object value;
    try {
      List<Row> first = spark.sql(rule.detail()).limit(1).collectAsList();
      value = first.isEmpty() || first.get(0).isNullAt(0) ? null : first.get(0).get(0);
    } catch (Exception e) { // Spark's AnalysisException is checked in Java's eyes but undeclared
      if (!isAnalysisError(e)) {
        throw e;
      }
      throw Errors.badInput(
          "rule '" + rule.name() + "': its query does not run: " + Errors.rootMessage(e),
          "fix the query; refer to the dataset as {object} and the rule's column as {property}");
    } finally {
      spark.catalog().dropTempView(VIEW);
    }
    Expectation e = rule.expectation();
    String column = rule.columns().isEmpty() ? null : String.join(",", rule.columns());
    if (!(value instanceof Number number)) {
      return new RuleResult(
          rule.name(),
          rule.severity(),
          "sql",
          column,
          RuleResult.Status.FAILED,
          null,
          e.describe(),
          "the query returned " + value + ", not a number",
          false);
    }
    double v = number.doubleValue();
    boolean passed = e.test(v);
    return new RuleResult(
        rule.name(),
        rule.severity(),
        "sql",
        column,
        passed ? RuleResult.Status.PASSED : RuleResult.Status.FAILED,
        v,
        e.describe(),
        passed ? null : "measured " + Expectation.format(v) + ", expected " + e.describe(),
        false);
  }

  private static boolean isAnalysisError(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof AnalysisException) {
        return true;
      }
    }
    return false;
  }

  private static RuleResult skipped(CompiledRule rule, String why) {
    return new RuleResult(
        rule.name(),
        rule.severity(),
        rule.kind().metric(),
        rule.columns().isEmpty() ? null : String.join(",", rule.columns()),
        RuleResult.Status.SKIPPED,
        null,
        rule.expectationText() != null
            ? rule.expectationText()
            : rule.expectation() != null ? rule.expectation().describe() : "",
        why,
        rule.isRowLevel());
  }

  private static Map<String, List<MetricsRepository.Point>> historyWithCurrent(
      Map<String, List<MetricsRepository.Point>> before, ContractResult result, DatasetRef pinned) {
    Map<String, List<MetricsRepository.Point>> series = new LinkedHashMap<>();
    before.forEach((k, v) -> series.put(k, new ArrayList<>(v)));
    for (MetricValue m : result.metrics()) {
      series
          .computeIfAbsent(MetricsRepository.key(m.name(), m.instance()), k -> new ArrayList<>())
          .add(new MetricsRepository.Point(pinned.version(), m.value()));
    }
    return series;
  }

  private static Duration elapsed(long started) {
    return Duration.ofNanos(System.nanoTime() - started);
  }
}
