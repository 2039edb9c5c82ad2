package kiln.contracts.internal;

import java.util.List;
import kiln.contracts.AnomalyRule;
import kiln.contracts.QualityRule;
import kiln.contracts.Severity;

/**
 * One rule of a contract in the form Kiln checks it: what it measures, on which columns, the
 * expected value, and (for row-level rules) the SQL condition a single row must keep to.
 *
 * @param rowCondition SQL that is true for a row that keeps to the rule; null when the rule is
 *     about the table as a whole (a mean, a row count, uniqueness)
 * @param detail the pattern, predicate, quantile, maximum age, reference dataset or query the kind
 *     needs
 */
public record CompiledRule(
    String name,
    Severity severity,
    Kind kind,
    List<String> columns,
    Expectation expectation,
    String expectationText,
    boolean percent,
    String rowCondition,
    String detail,
    List<String> values,
    AnomalyRule anomaly,
    QualityRule source) {

  /** What a rule measures. {@link #metric} is the name reports use. */
  public enum Kind {
    REQUIRED("completeness"),
    UNIQUE("uniqueness"),
    MINIMUM("minimum"),
    MAXIMUM("maximum"),
    PATTERN("patternMatch"),
    MIN_LENGTH("compliance"),
    MAX_LENGTH("compliance"),
    ROW_COUNT("rowCount"),
    NULL_VALUES("nullValues"),
    MISSING_VALUES("missingValues"),
    INVALID_VALUES("invalidValues"),
    DUPLICATE_VALUES("duplicateValues"),
    COMPLETENESS("completeness"),
    UNIQUENESS("uniqueness"),
    FRESHNESS("freshness"),
    VALUES_IN("valuesIn"),
    MEAN("mean"),
    STANDARD_DEVIATION("standardDeviation"),
    QUANTILE("quantile"),
    RANGE_MINIMUM("minimum"),
    RANGE_MAXIMUM("maximum"),
    PREDICATE("predicate"),
    SQL("sql"),
    ANOMALY("anomaly"),
    NOT_CHECKED("text");

    private final String metric;

    Kind(String metric) {
      this.metric = metric;
    }

    public String metric() {
      return metric;
    }
  }

  public CompiledRule {
    columns = columns == null ? List.of() : List.copyOf(columns);
    values = values == null ? List.of() : List.copyOf(values);
  }

  public String column() {
    return columns.isEmpty() ? null : columns.get(0);
  }

  public boolean isRowLevel() {
    return rowCondition != null;
  }

  public CompiledRule withColumns(List<String> all) {
    return new CompiledRule(
        name,
        severity,
        kind,
        all,
        expectation,
        expectationText,
        percent,
        rowCondition,
        detail,
        values,
        anomaly,
        source);
  }

  public CompiledRule withValues(List<String> resolved, String condition) {
    return new CompiledRule(
        name,
        severity,
        kind,
        columns,
        expectation,
        expectationText,
        percent,
        condition,
        detail,
        resolved,
        anomaly,
        source);
  }

  /** A column name as Spark SQL reads it, whatever characters it holds. */
  public static String quote(String column) {
    return "`" + column.replace("`", "``") + "`";
  }

  /** A string literal for Spark SQL. */
  public static String literal(String value) {
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
  }
}
