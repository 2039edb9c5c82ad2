package kiln.contracts.internal;

import static kiln.contracts.internal.CompiledRule.quote;
import static kiln.contracts.internal.Scala.assertion;
import static kiln.contracts.internal.Scala.none;
import static kiln.contracts.internal.Scala.seq;
import static kiln.contracts.internal.Scala.some;

import com.amazon.deequ.VerificationResult;
import com.amazon.deequ.VerificationSuite;
import com.amazon.deequ.analyzers.Analyzer;
import com.amazon.deequ.analyzers.Completeness;
import com.amazon.deequ.analyzers.Maximum;
import com.amazon.deequ.analyzers.Mean;
import com.amazon.deequ.analyzers.Minimum;
import com.amazon.deequ.analyzers.Size;
import com.amazon.deequ.analyzers.StandardDeviation;
import com.amazon.deequ.checks.Check;
import com.amazon.deequ.checks.CheckLevel;
import com.amazon.deequ.checks.CheckResult;
import com.amazon.deequ.constraints.ConstraintResult;
import com.amazon.deequ.metrics.DoubleMetric;
import com.amazon.deequ.metrics.Metric;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.DoubleUnaryOperator;
import kiln.contracts.MetricValue;
import kiln.contracts.RuleResult;
import kiln.contracts.Severity;
import kiln.contracts.internal.CompiledRule.Kind;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.collection.JavaConverters;

/**
 * Translates compiled rules into Deequ checks (one check per rule, so that each verdict keeps its
 * rule's name) and runs them all in one VerificationSuite pass over the data.
 */
public final class DeequVerification {
  private DeequVerification() {}

  /**
   * What one pass found: the verdict per rule (by name), every metric computed, and the row count.
   */
  public record Outcome(Map<String, RuleResult> results, List<MetricValue> metrics, long rows) {}

  /**
   * A rule as a Deequ check, and how the check's metric becomes the value the rule's expectation
   * reads.
   */
  public record Translated(CompiledRule rule, Check check, DoubleUnaryOperator shown) {}

  public static Outcome run(Dataset<Row> data, List<CompiledRule> rules, Instant now) {
    List<Translated> translated = new ArrayList<>();
    for (CompiledRule rule : rules) {
      Translated t = translate(rule, now);
      if (t != null) {
        translated.add(t);
      }
    }
    List<Analyzer<?, Metric<?>>> analyzers = new ArrayList<>();
    analyzers.add(analyzer(new Size(none())));
    for (CompiledRule rule : rules) {
      if (rule.kind() == Kind.ANOMALY) {
        analyzers.add(anomalyAnalyzer(rule));
      }
    }
    VerificationResult result =
        new VerificationSuite()
            .onData(data)
            .addChecks(seq(translated.stream().map(Translated::check).toList()))
            .addRequiredAnalyzers(seq(analyzers))
            .run();

    Map<Check, CheckResult> checkResults =
        new IdentityHashMap<>(JavaConverters.mapAsJavaMap(result.checkResults()));
    Map<String, RuleResult> results = new LinkedHashMap<>();
    for (Translated t : translated) {
      CheckResult checkResult = checkResults.get(t.check());
      ConstraintResult constraint = checkResult.constraintResults().head();
      results.put(t.rule().name(), verdict(t, constraint));
    }
    List<MetricValue> metrics = new ArrayList<>();
    long rows = -1;
    for (var entry : JavaConverters.mapAsJavaMap(result.metrics()).entrySet()) {
      // a filtered analyzer (Size where ...) shares its unfiltered twin's name and instance: it is
      // one rule's own
      if (entry.getKey() instanceof com.amazon.deequ.analyzers.FilterableAnalyzer filterable
          && filterable.filterCondition().isDefined()) {
        continue;
      }
      for (DoubleMetric m : JavaConverters.seqAsJavaList(entry.getValue().flatten())) {
        if (m.value().isSuccess()) {
          double value = ((Number) m.value().get()).doubleValue();
          metrics.add(new MetricValue(m.entity().toString(), m.instance(), m.name(), value));
          if (m.name().equals("Size") && m.instance().equals("*")) {
            rows = (long) value;
          }
        }
      }
    }
    metrics.sort(
        java.util.Comparator.comparing(MetricValue::name).thenComparing(MetricValue::instance));
    return new Outcome(results, metrics, rows);
  }

  /** The Deequ check for one rule; null for kinds Deequ does not evaluate (sql, anomaly, text). */
  public static Translated translate(CompiledRule rule, Instant now) {
    Expectation e = rule.expectation();
    String c = rule.column();
    Check check =
        new Check(
            rule.severity() == Severity.ERROR ? CheckLevel.Error() : CheckLevel.Warning(),
            rule.name(),
            seq(List.of()));
    DoubleUnaryOperator identity = x -> x;
    DoubleUnaryOperator nullPercent = x -> Math.round((1 - x) * 100 * 1e9) / 1e9;
    return switch (rule.kind()) {
      case REQUIRED -> new Translated(rule, check.isComplete(c, none(), none()), identity);
      case UNIQUE -> new Translated(rule, check.isUnique(c, none(), none()), identity);
      case MINIMUM, RANGE_MINIMUM ->
          new Translated(rule, check.hasMin(c, assertion(e::test), none(), none()), identity);
      case MAXIMUM, RANGE_MAXIMUM ->
          new Translated(rule, check.hasMax(c, assertion(e::test), none(), none()), identity);
      case PATTERN -> {
        Check pattern =
            check.hasPattern(
                c,
                new scala.util.matching.Regex(rule.detail(), seq(List.<String>of())),
                assertion(e::test),
                some(rule.name()),
                none(),
                none());
        boolean nullable = rule.rowCondition().startsWith(quote(c) + " IS NULL OR ");
        yield new Translated(
            rule,
            nullable
                ? ((com.amazon.deequ.checks.CheckWithLastConstraintFilterable) pattern)
                    .where(quote(c) + " IS NOT NULL")
                : pattern,
            identity);
      }
      case MIN_LENGTH, MAX_LENGTH, FRESHNESS, PREDICATE -> {
        String condition =
            switch (rule.kind()) {
              case FRESHNESS ->
                  quote(c)
                      + " >= TIMESTAMP'"
                      + DateTimeFormatter.ISO_INSTANT.format(
                          now.minus(java.time.Duration.parse(rule.detail())))
                      + "'";
              case PREDICATE -> rule.detail();
              default -> rule.rowCondition();
            };
        yield new Translated(
            rule,
            check.satisfies(
                condition, rule.name(), assertion(e::test), none(), Scala.list(List.of()), none()),
            identity);
      }
      case ROW_COUNT -> new Translated(rule, check.hasSize(assertion(e::test), none()), identity);
      case NULL_VALUES ->
          rule.percent()
              ? new Translated(
                  rule,
                  check.hasCompleteness(
                      c, assertion(x -> e.test(nullPercent.applyAsDouble(x))), none(), none()),
                  nullPercent)
              : new Translated(
                  rule, check.hasSize(assertion(e::test), none()).where(rule.detail()), identity);
      case MISSING_VALUES, INVALID_VALUES ->
          rule.percent()
              ? new Translated(
                  rule,
                  check.satisfies(
                      "NOT (" + rule.detail() + ")",
                      rule.name(),
                      assertion(x -> e.test(nullPercent.applyAsDouble(x))),
                      none(),
                      Scala.list(List.of()),
                      none()),
                  nullPercent)
              : new Translated(
                  rule, check.hasSize(assertion(e::test), none()).where(rule.detail()), identity);
      case DUPLICATE_VALUES ->
          rule.percent()
              ? new Translated(
                  rule,
                  check.hasUniqueness(
                      seq(rule.columns()), assertion(x -> e.test(nullPercent.applyAsDouble(x)))),
                  nullPercent)
              : new Translated(
                  rule,
                  check.hasUniqueness(seq(rule.columns()), assertion(x -> x == 1.0)),
                  identity);
      case COMPLETENESS ->
          new Translated(
              rule, check.hasCompleteness(c, assertion(e::test), none(), none()), identity);
      case UNIQUENESS ->
          new Translated(
              rule, check.hasUniqueness(seq(rule.columns()), assertion(e::test)), identity);
      case VALUES_IN ->
          new Translated(
              rule,
              check.isContainedIn(
                  c, rule.values().toArray(String[]::new), assertion(e::test), none(), none()),
              identity);
      case MEAN -> new Translated(rule, check.hasMean(c, assertion(e::test), none()), identity);
      case STANDARD_DEVIATION ->
          new Translated(rule, check.hasStandardDeviation(c, assertion(e::test), none()), identity);
      case QUANTILE ->
          new Translated(
              rule,
              check.hasApproxQuantile(
                  c, Double.parseDouble(rule.detail()), assertion(e::test), none()),
              identity);
      case SQL, ANOMALY, NOT_CHECKED -> null;
    };
  }

  /**
   * The analyzer whose metric an anomaly rule follows, and the name and instance the history keys
   * it by.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public static Analyzer<?, Metric<?>> anomalyAnalyzer(CompiledRule rule) {
    String c = rule.column();
    Object analyzer =
        switch (rule.detail()) {
          case "rowCount" -> new Size(none());
          case "completeness" -> new Completeness(c, none(), none());
          case "mean" -> new Mean(c, none());
          case "standardDeviation" -> new StandardDeviation(c, none());
          case "minimum" -> new Minimum(c, none(), none());
          case "maximum" -> new Maximum(c, none(), none());
          default ->
              throw new IllegalStateException("no analyzer for anomaly metric " + rule.detail());
        };
    return (Analyzer) analyzer;
  }

  /**
   * Deequ's name and instance of the metric an anomaly rule follows: ("Size", "*"), ("Mean",
   * "delay").
   */
  public static String[] anomalyMetricKey(CompiledRule rule) {
    return switch (rule.detail()) {
      case "rowCount" -> new String[] {"Size", "*"};
      case "completeness" -> new String[] {"Completeness", rule.column()};
      case "mean" -> new String[] {"Mean", rule.column()};
      case "standardDeviation" -> new String[] {"StandardDeviation", rule.column()};
      case "minimum" -> new String[] {"Minimum", rule.column()};
      default -> new String[] {"Maximum", rule.column()};
    };
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static Analyzer<?, Metric<?>> analyzer(Object analyzer) {
    return (Analyzer) analyzer;
  }

  private static RuleResult verdict(Translated t, ConstraintResult constraint) {
    CompiledRule rule = t.rule();
    boolean passed = constraint.status().toString().equals("Success");
    Double value = null;
    if (constraint.metric().isDefined() && constraint.metric().get().value().isSuccess()) {
      Object raw = constraint.metric().get().value().get();
      if (raw instanceof Number number) {
        value = t.shown().applyAsDouble(number.doubleValue());
      }
    }
    String expectation =
        rule.expectationText() != null ? rule.expectationText() : rule.expectation().describe();
    String message = null;
    if (!passed) {
      if (value != null) {
        message = "measured " + Expectation.format(value) + ", expected " + expectation;
      } else {
        message =
            constraint.message().isDefined()
                ? constraint.message().get()
                : "the metric could not be computed";
      }
    }
    return new RuleResult(
        rule.name(),
        rule.severity(),
        rule.kind().metric(),
        rule.columns().isEmpty() ? null : String.join(",", rule.columns()),
        passed ? RuleResult.Status.PASSED : RuleResult.Status.FAILED,
        value,
        expectation,
        message,
        rule.isRowLevel());
  }
}
