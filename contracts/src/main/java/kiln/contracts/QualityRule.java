package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import kiln.contracts.internal.Expectation;
import kiln.contracts.internal.Expectation.Operator;
import kiln.core.Errors;

/**
 * An ODCS quality rule on a schema object or a property. Library metrics from ODCS ({@code
 * rowCount}, {@code nullValues}, {@code missingValues}, {@code invalidValues}, {@code
 * duplicateValues}) and Kiln's own ({@code completeness}, {@code uniqueness}, {@code freshness},
 * {@code valuesIn}, {@code mean}, {@code standardDeviation}, {@code quantile}, {@code minimum},
 * {@code maximum}, {@code predicate}), compared with ODCS operators; {@code type: sql} rules run
 * their {@code query}; {@code anomaly} compares the metric with its history. Every rule has a
 * severity: error (default) or warning.
 */
// the ODCS JSON schema has accepted every key already (Contracts.parse); standard fields this
// record does not model are dropped here and listed as not checked
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "name",
  "description",
  "type",
  "metric",
  "arguments",
  "unit",
  "query",
  "mustBe",
  "mustNotBe",
  "mustBeGreaterThan",
  "mustBeGreaterOrEqualTo",
  "mustBeLessThan",
  "mustBeLessOrEqualTo",
  "mustBeBetween",
  "mustNotBeBetween",
  "anomaly",
  "severity"
})
public record QualityRule(
    String name,
    JsonNode description,
    String type,
    String metric,
    Map<String, Object> arguments,
    String unit,
    String query,
    String engine,
    JsonNode implementation,
    JsonNode dimension,
    JsonNode businessImpact,
    JsonNode method,
    JsonNode schedule,
    JsonNode scheduler,
    JsonNode tags,
    JsonNode customProperties,
    JsonNode authoritativeDefinitions,
    Double mustBe,
    Double mustNotBe,
    Double mustBeGreaterThan,
    Double mustBeGreaterOrEqualTo,
    Double mustBeLessThan,
    Double mustBeLessOrEqualTo,
    List<Double> mustBeBetween,
    List<Double> mustNotBeBetween,
    AnomalyRule anomaly,
    Severity severity) {

  public static final Set<String> TYPES = Set.of("library", "sql", "text", "custom");

  /** Metrics about one column: the rule stands under a property. */
  public static final Set<String> COLUMN_METRICS =
      Set.of(
          "nullValues",
          "missingValues",
          "invalidValues",
          "completeness",
          "freshness",
          "valuesIn",
          "mean",
          "standardDeviation",
          "quantile",
          "minimum",
          "maximum");

  /** Metrics that stand under the object or under a property. */
  public static final Set<String> TABLE_OR_COLUMN_METRICS =
      Set.of("duplicateValues", "uniqueness", "predicate");

  public static final Set<String> TABLE_METRICS = Set.of("rowCount");

  /** Metrics an anomaly rule can follow over the history. */
  public static final Set<String> ANOMALY_METRICS =
      Set.of("rowCount", "completeness", "mean", "standardDeviation", "minimum", "maximum");

  public static final Set<String> UNITS = Set.of("rows", "percent");

  public QualityRule {
    type = type == null ? "library" : type;
    if (!TYPES.contains(type)) {
      throw Errors.badInput(
          where(name, metric)
              + "unknown rule type '"
              + type
              + "'; valid: "
              + String.join(", ", new TreeSet<>(TYPES)),
          "correct the contract file");
    }
    arguments =
        arguments == null
            ? Map.of()
            : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(arguments));
    severity = severity == null ? Severity.ERROR : severity;
    if (unit != null && !UNITS.contains(unit)) {
      throw Errors.badInput(
          where(name, metric) + "unknown unit '" + unit + "'; valid: percent, rows",
          "correct the contract file");
    }
    for (List<Double> range : java.util.Arrays.asList(mustBeBetween, mustNotBeBetween)) {
      if (range != null && (range.size() != 2 || range.contains(null))) {
        throw Errors.badInput(
            where(name, metric) + "a between operator takes two numbers, e.g. [1, 5]; got " + range,
            "correct the contract file");
      }
      if (range != null && range.get(0) > range.get(1)) {
        throw Errors.badInput(
            where(name, metric)
                + "the range ["
                + Expectation.format(range.get(0))
                + ", "
                + Expectation.format(range.get(1))
                + "] has its minimum above its maximum; swap them",
            "correct the contract file");
      }
    }
    List<String> operators =
        operatorKeys(
            mustBe,
            mustNotBe,
            mustBeGreaterThan,
            mustBeGreaterOrEqualTo,
            mustBeLessThan,
            mustBeLessOrEqualTo,
            mustBeBetween,
            mustNotBeBetween);
    if (operators.size() > 1) {
      throw Errors.badInput(
          where(name, metric)
              + "has "
              + operators.size()
              + " operators ("
              + String.join(", ", operators)
              + "); give one, e.g. mustBeBetween: [low, high]",
          "correct the contract file");
    }
    switch (type) {
      case "sql" -> {
        if (query == null || query.isBlank()) {
          throw Errors.badInput(
              where(name, metric)
                  + "a sql rule needs a query, e.g. "
                  + "query: SELECT COUNT(*) FROM {object} WHERE delay > 1000",
              "correct the contract file");
        }
        if (operators.isEmpty()) {
          throw Errors.badInput(
              where(name, metric)
                  + "a sql rule needs an operator to compare the query's result with, e.g. mustBe: 0",
              "correct the contract file");
        }
      }
      case "library" -> validateLibrary(name, metric, arguments, unit, operators, anomaly);
      default -> {} // text and custom rules document; Kiln reports them as not checked
    }
  }

  private static void validateLibrary(
      String name,
      String metric,
      Map<String, Object> arguments,
      String unit,
      List<String> operators,
      AnomalyRule anomaly) {
    if (metric == null) {
      throw Errors.badInput(
          where(name, null) + "has no metric; valid metrics: " + validMetrics(),
          "correct the contract file");
    }
    if (!COLUMN_METRICS.contains(metric)
        && !TABLE_OR_COLUMN_METRICS.contains(metric)
        && !TABLE_METRICS.contains(metric)) {
      throw Errors.badInput(
          where(name, null) + "unknown metric '" + metric + "'; valid metrics: " + validMetrics(),
          "correct the contract file");
    }
    if (anomaly != null) {
      if (!ANOMALY_METRICS.contains(metric)) {
        throw Errors.badInput(
            where(name, metric)
                + "anomaly rules follow one of "
                + String.join(", ", new TreeSet<>(ANOMALY_METRICS))
                + ", not "
                + metric,
            "correct the contract file");
      }
      if (!operators.isEmpty()) {
        throw Errors.badInput(
            where(name, metric)
                + "an anomaly rule is judged by its strategy; remove "
                + String.join(", ", operators),
            "correct the contract file");
      }
      return;
    }
    if (operators.isEmpty()
        && Set.of("rowCount", "mean", "standardDeviation", "quantile", "minimum", "maximum")
            .contains(metric)) {
      throw Errors.badInput(
          where(name, metric)
              + "metric "
              + metric
              + " needs an operator, e.g. mustBeBetween: [low, high] (or an anomaly: strategy)",
          "correct the contract file");
    }
    if (unit != null
        && !Set.of("nullValues", "missingValues", "invalidValues", "duplicateValues")
            .contains(metric)) {
      throw Errors.badInput(
          where(name, metric)
              + "unit applies to nullValues, missingValues, invalidValues and duplicateValues only",
          "correct the contract file");
    }
    switch (metric) {
      case "freshness" -> {
        if (!operators.isEmpty()) {
          throw Errors.badInput(
              where(name, metric) + "freshness takes arguments.maximumAge, not an operator",
              "correct the contract file");
        }
        maximumAge(name, metric, arguments);
      }
      case "predicate" ->
          requireString(
              name, metric, arguments, "expression", "e.g. expression: \"origin <> destination\"");
      case "valuesIn" ->
          requireString(name, metric, arguments, "dataset", "e.g. dataset: /data/airports@3");
      case "quantile" -> {
        Object quantile = arguments.get("quantile");
        if (!(quantile instanceof Number q) || q.doubleValue() <= 0 || q.doubleValue() >= 1) {
          throw Errors.badInput(
              where(name, metric)
                  + "arguments.quantile must be a number between 0 and 1 (exclusive), e.g. quantile: 0.5; got "
                  + quantile,
              "correct the contract file");
        }
      }
      case "invalidValues" -> {
        Object valid = arguments.get("validValues");
        Object pattern = arguments.get("pattern");
        if (valid == null && pattern == null) {
          throw Errors.badInput(
              where(name, metric)
                  + "invalidValues needs arguments.validValues (a list) or arguments.pattern",
              "correct the contract file");
        }
        if (valid != null && !(valid instanceof List<?>)) {
          throw Errors.badInput(
              where(name, metric)
                  + "arguments.validValues must be a list, e.g. [a, b]; got "
                  + valid,
              "correct the contract file");
        }
        if (pattern != null) {
          LogicalTypeOptions.compile(
              String.valueOf(pattern), where(name, metric) + "arguments.pattern");
        }
      }
      case "duplicateValues" -> {
        if ("rows".equals(unit) || unit == null) {
          Double threshold = operators.isEmpty() ? Double.valueOf(0) : null;
          if (threshold == null && !operators.equals(List.of("mustBe"))) {
            throw Errors.badInput(
                where(name, metric)
                    + "duplicateValues counted in rows can only be mustBe: 0; "
                    + "use unit: percent for a tolerance",
                "correct the contract file");
          }
        }
      }
      default -> {}
    }
    Object properties = arguments.get("properties");
    if (properties != null && !(properties instanceof List<?> list && !list.isEmpty())) {
      throw Errors.badInput(
          where(name, metric) + "arguments.properties must be a non-empty list of column names",
          "correct the contract file");
    }
  }

  public static QualityRule library(
      String name,
      String metric,
      Map<String, Object> arguments,
      Expectation expectation,
      Severity severity) {
    Double single =
        expectation == null || isRange(expectation.operator()) ? null : expectation.first();
    List<Double> range =
        expectation == null || !isRange(expectation.operator())
            ? null
            : List.of(expectation.first(), expectation.second());
    Operator op = expectation == null ? null : expectation.operator();
    return new QualityRule(
        name,
        null,
        "library",
        metric,
        arguments,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        op == Operator.MUST_BE ? single : null,
        op == Operator.MUST_NOT_BE ? single : null,
        op == Operator.MUST_BE_GREATER_THAN ? single : null,
        op == Operator.MUST_BE_GREATER_OR_EQUAL_TO ? single : null,
        op == Operator.MUST_BE_LESS_THAN ? single : null,
        op == Operator.MUST_BE_LESS_OR_EQUAL_TO ? single : null,
        op == Operator.MUST_BE_BETWEEN ? range : null,
        op == Operator.MUST_NOT_BE_BETWEEN ? range : null,
        null,
        severity);
  }

  public QualityRule withAnomaly(AnomalyRule rule) {
    return new QualityRule(
        name,
        description,
        type,
        metric,
        arguments,
        unit,
        query,
        engine,
        implementation,
        dimension,
        businessImpact,
        method,
        schedule,
        scheduler,
        tags,
        customProperties,
        authoritativeDefinitions,
        mustBe,
        mustNotBe,
        mustBeGreaterThan,
        mustBeGreaterOrEqualTo,
        mustBeLessThan,
        mustBeLessOrEqualTo,
        mustBeBetween,
        mustNotBeBetween,
        rule,
        severity);
  }

  private static boolean isRange(Operator operator) {
    return operator == Operator.MUST_BE_BETWEEN || operator == Operator.MUST_NOT_BE_BETWEEN;
  }

  /** The comparison the rule states, if any. */
  @JsonIgnore
  public java.util.Optional<Expectation> expectation() {
    Expectation e = null;
    if (mustBe != null) e = Expectation.of(Operator.MUST_BE, mustBe);
    if (mustNotBe != null) e = Expectation.of(Operator.MUST_NOT_BE, mustNotBe);
    if (mustBeGreaterThan != null)
      e = Expectation.of(Operator.MUST_BE_GREATER_THAN, mustBeGreaterThan);
    if (mustBeGreaterOrEqualTo != null)
      e = Expectation.of(Operator.MUST_BE_GREATER_OR_EQUAL_TO, mustBeGreaterOrEqualTo);
    if (mustBeLessThan != null) e = Expectation.of(Operator.MUST_BE_LESS_THAN, mustBeLessThan);
    if (mustBeLessOrEqualTo != null)
      e = Expectation.of(Operator.MUST_BE_LESS_OR_EQUAL_TO, mustBeLessOrEqualTo);
    if (mustBeBetween != null) e = Expectation.between(mustBeBetween.get(0), mustBeBetween.get(1));
    if (mustNotBeBetween != null)
      e =
          new Expectation(
              Operator.MUST_NOT_BE_BETWEEN, mustNotBeBetween.get(0), mustNotBeBetween.get(1));
    return java.util.Optional.ofNullable(e);
  }

  /** The columns the rule names in {@code arguments.properties}. */
  @JsonIgnore
  public List<String> columns() {
    Object properties = arguments.get("properties");
    List<String> columns = new ArrayList<>();
    if (properties instanceof List<?> list) {
      list.forEach(p -> columns.add(String.valueOf(p)));
    }
    return columns;
  }

  /** The name given, or one made from the metric. */
  @JsonIgnore
  public String displayName() {
    return name != null && !name.isBlank() ? name : metric != null ? metric : type;
  }

  @JsonIgnore
  public Duration maximumAge() {
    return maximumAge(name, metric, arguments);
  }

  @JsonIgnore
  public String argument(String key) {
    Object value = arguments.get(key);
    return value == null ? null : String.valueOf(value);
  }

  private static Duration maximumAge(String name, String metric, Map<String, Object> arguments) {
    Object age = arguments.get("maximumAge");
    if (age == null) {
      throw Errors.badInput(
          where(name, metric)
              + "freshness needs arguments.maximumAge, an ISO-8601 duration such as P1D or PT6H",
          "correct the contract file");
    }
    try {
      return Duration.parse(String.valueOf(age).toUpperCase(Locale.ROOT));
    } catch (DateTimeParseException e) {
      throw Errors.badInput(
          where(name, metric)
              + "maximumAge '"
              + age
              + "' is not an ISO-8601 duration; write e.g. P1D (a day) or PT6H (six hours)",
          "correct the contract file");
    }
  }

  private static void requireString(
      String name, String metric, Map<String, Object> arguments, String key, String example) {
    Object value = arguments.get(key);
    if (value == null || String.valueOf(value).isBlank()) {
      throw Errors.badInput(
          where(name, metric) + metric + " needs arguments." + key + ", " + example,
          "correct the contract file");
    }
  }

  private static List<String> operatorKeys(Object... values) {
    List<String> keys = new ArrayList<>();
    Operator[] operators = Operator.values();
    for (int i = 0; i < values.length; i++) {
      if (values[i] != null) {
        keys.add(operators[i].key());
      }
    }
    return keys;
  }

  static String validMetrics() {
    TreeSet<String> all = new TreeSet<>(COLUMN_METRICS);
    all.addAll(TABLE_OR_COLUMN_METRICS);
    all.addAll(TABLE_METRICS);
    return String.join(", ", all);
  }

  private static String where(String name, String metric) {
    String label = name != null ? name : metric;
    return label == null ? "" : "rule '" + label + "': ";
  }
}
