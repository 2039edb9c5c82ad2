package kiln.jobs;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import kiln.contracts.CheckRun;
import kiln.contracts.ContractResult;
import kiln.contracts.MetricValue;
import kiln.contracts.RuleResult;
import kiln.contracts.Severity;
import kiln.lineage.DataQuality;

/**
 * A contract check as OpenLineage's data-quality facets: the composition of contracts and lineage,
 * which know nothing of each other.
 */
final class ContractLineage {
  private ContractLineage() {}

  /** The check's verdicts and Deequ's metrics on the checked table version; empty: no table. */
  static Optional<DataQuality> of(CheckRun check) {
    ContractResult result = check.result();
    if (result.dataset() == null) {
      return Optional.empty();
    }
    List<DataQuality.Assertion> assertions = new ArrayList<>();
    assertions.add(
        new DataQuality.Assertion(
            "schema",
            result.schemaDifferences().isEmpty(),
            null,
            "error",
            "schema",
            "the contract's columns and types",
            result.schemaDifferences().isEmpty()
                ? "as declared"
                : result.schemaDifferences().size() + " column(s) differ"));
    for (RuleResult rule : result.rules()) {
      if (rule.status() == RuleResult.Status.SKIPPED) {
        // not evaluated: the spec's assertion needs a success, which a skipped rule does not have
        continue;
      }
      assertions.add(
          new DataQuality.Assertion(
              assertion(rule.metric()),
              !rule.failed(),
              rule.column() == null || rule.column().contains(",") ? null : rule.column(),
              rule.severity() == Severity.ERROR ? "error" : "warn",
              rule.name(),
              rule.expectation(),
              rule.value() == null ? null : format(rule.value())));
    }
    Optional<Long> rows = result.rows() >= 0 ? Optional.of(result.rows()) : Optional.empty();
    return Optional.of(
        new DataQuality(result.dataset(), assertions, rows, columnMetrics(result, rows)));
  }

  /** The kinds the spec names where Kiln's metric is one of them; else Kiln's metric name. */
  static String assertion(String metric) {
    if (metric == null) {
      return "custom";
    }
    return switch (metric) {
      case "nullValues", "completeness", "required" -> "not_null";
      case "duplicateValues", "uniqueness", "unique" -> "unique";
      case "rowCount" -> "row_count";
      case "freshness" -> "freshness";
      case "valuesIn" -> "accepted_values";
      case "sql" -> "custom_sql";
      default -> metric.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
    };
  }

  /** Deequ's column metrics in the spec's terms: null count from completeness, min, max, sum. */
  private static Map<String, DataQuality.ColumnMetrics> columnMetrics(
      ContractResult result, Optional<Long> rows) {
    Map<String, DataQuality.ColumnMetrics> columns = new LinkedHashMap<>();
    for (MetricValue metric : result.metrics()) {
      if (!"Column".equals(metric.entity()) || !Double.isFinite(metric.value())) {
        continue;
      }
      DataQuality.ColumnMetrics found =
          switch (metric.name()) {
            case "Completeness" ->
                rows.map(
                        n ->
                            new DataQuality.ColumnMetrics(
                                Math.round(n * (1 - metric.value())), null, null, null, null))
                    .orElse(null);
            case "CountDistinct", "ApproxCountDistinct" ->
                new DataQuality.ColumnMetrics(null, Math.round(metric.value()), null, null, null);
            case "Sum" -> new DataQuality.ColumnMetrics(null, null, metric.value(), null, null);
            case "Minimum" -> new DataQuality.ColumnMetrics(null, null, null, metric.value(), null);
            case "Maximum" -> new DataQuality.ColumnMetrics(null, null, null, null, metric.value());
            default -> null;
          };
      if (found != null) {
        columns.merge(metric.instance(), found, DataQuality.ColumnMetrics::merge);
      }
    }
    return columns;
  }

  private static String format(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? String.valueOf((long) value)
        : String.valueOf(value);
  }
}
