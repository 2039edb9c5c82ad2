package kiln.contracts.internal;

import static kiln.contracts.internal.CompiledRule.literal;
import static kiln.contracts.internal.CompiledRule.quote;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import kiln.contracts.ContractObject;
import kiln.contracts.ContractProperty;
import kiln.contracts.LogicalTypeOptions;
import kiln.contracts.QualityRule;
import kiln.contracts.Severity;
import kiln.contracts.internal.CompiledRule.Kind;
import kiln.contracts.internal.Expectation.Operator;
import kiln.core.Errors;

/**
 * Turns a schema object into the list of rules Kiln checks: the rules its properties imply
 * (required, unique, primary key, pattern, bounds, lengths) and its quality rules, each with a
 * unique name.
 */
public final class RuleCompiler {
  private RuleCompiler() {}

  public static List<CompiledRule> compile(ContractObject object) {
    List<CompiledRule> rules = new ArrayList<>();
    List<String> primaryKey = new ArrayList<>();
    for (ContractProperty property : object.properties()) {
      String c = property.name();
      String q = quote(c);
      if (property.requiresValues()) {
        rules.add(
            rule(
                c + ".required",
                Severity.ERROR,
                Kind.REQUIRED,
                c,
                Expectation.of(Operator.MUST_BE, 1),
                "no nulls",
                q + " IS NOT NULL",
                null));
      }
      if (property.requiresUniqueValues()) {
        rules.add(
            rule(
                c + ".unique",
                Severity.ERROR,
                Kind.UNIQUE,
                c,
                Expectation.of(Operator.MUST_BE, 1),
                "every value unique",
                null,
                null));
      }
      if (property.inPrimaryKey()) {
        primaryKey.add(c);
      }
      LogicalTypeOptions options = property.options();
      String nullOr = q + " IS NULL OR ";
      if (options.minimum() != null) {
        rules.add(
            rule(
                c + ".minimum",
                Severity.ERROR,
                Kind.MINIMUM,
                c,
                Expectation.of(Operator.MUST_BE_GREATER_OR_EQUAL_TO, options.minimum()),
                null,
                nullOr + q + " >= " + num(options.minimum()),
                null));
      }
      if (options.exclusiveMinimum() != null) {
        rules.add(
            rule(
                c + ".exclusiveMinimum",
                Severity.ERROR,
                Kind.MINIMUM,
                c,
                Expectation.of(Operator.MUST_BE_GREATER_THAN, options.exclusiveMinimum()),
                null,
                nullOr + q + " > " + num(options.exclusiveMinimum()),
                null));
      }
      if (options.maximum() != null) {
        rules.add(
            rule(
                c + ".maximum",
                Severity.ERROR,
                Kind.MAXIMUM,
                c,
                Expectation.of(Operator.MUST_BE_LESS_OR_EQUAL_TO, options.maximum()),
                null,
                nullOr + q + " <= " + num(options.maximum()),
                null));
      }
      if (options.exclusiveMaximum() != null) {
        rules.add(
            rule(
                c + ".exclusiveMaximum",
                Severity.ERROR,
                Kind.MAXIMUM,
                c,
                Expectation.of(Operator.MUST_BE_LESS_THAN, options.exclusiveMaximum()),
                null,
                nullOr + q + " < " + num(options.exclusiveMaximum()),
                null));
      }
      if (options.pattern() != null) {
        // Deequ's PatternMatch counts a null as a mismatch; a column that may be null is matched on
        // its values
        String match = "regexp_extract(" + q + ", " + literal(options.pattern()) + ", 0) <> ''";
        rules.add(
            rule(
                c + ".pattern",
                Severity.ERROR,
                Kind.PATTERN,
                c,
                Expectation.of(Operator.MUST_BE, 1),
                "all values match " + options.pattern(),
                property.requiresValues() ? q + " IS NOT NULL AND " + match : nullOr + match,
                options.pattern()));
      }
      if (options.minLength() != null) {
        rules.add(
            rule(
                c + ".minLength",
                Severity.ERROR,
                Kind.MIN_LENGTH,
                c,
                Expectation.of(Operator.MUST_BE, 1),
                "length >= " + options.minLength(),
                nullOr + "length(" + q + ") >= " + options.minLength(),
                null));
      }
      if (options.maxLength() != null) {
        rules.add(
            rule(
                c + ".maxLength",
                Severity.ERROR,
                Kind.MAX_LENGTH,
                c,
                Expectation.of(Operator.MUST_BE, 1),
                "length <= " + options.maxLength(),
                nullOr + "length(" + q + ") <= " + options.maxLength(),
                null));
      }
      for (QualityRule quality : property.quality()) {
        rules.add(quality(quality, List.of(c)));
      }
    }
    if (!primaryKey.isEmpty()) {
      rules.add(
          rule(
                  object.name() + ".primaryKey",
                  Severity.ERROR,
                  Kind.UNIQUENESS,
                  null,
                  Expectation.of(Operator.MUST_BE, 1),
                  "(" + String.join(", ", primaryKey) + ") unique",
                  null,
                  null)
              .withColumns(primaryKey));
    }
    for (QualityRule quality : object.quality()) {
      rules.add(quality(quality, quality.columns()));
    }
    numberUnnamedDocumentation(rules);
    requireUniqueNames(rules);
    return rules;
  }

  /**
   * Text and custom rules without a name (ODCS does not require one) are only reported, so two on
   * one column are told apart by number ({@code id.custom}, {@code id.custom#2}) instead of
   * refused.
   */
  private static void numberUnnamedDocumentation(List<CompiledRule> rules) {
    Map<String, Integer> seen = new java.util.HashMap<>();
    for (int i = 0; i < rules.size(); i++) {
      CompiledRule rule = rules.get(i);
      boolean unnamed =
          rule.source() != null && (rule.source().name() == null || rule.source().name().isBlank());
      int count = seen.merge(rule.name(), 1, Integer::sum);
      if (rule.kind() == Kind.NOT_CHECKED && unnamed && count > 1) {
        rules.set(
            i,
            new CompiledRule(
                rule.name() + "#" + count,
                rule.severity(),
                rule.kind(),
                rule.columns(),
                rule.expectation(),
                rule.expectationText(),
                rule.percent(),
                rule.rowCondition(),
                rule.detail(),
                rule.values(),
                rule.anomaly(),
                rule.source()));
      }
    }
  }

  private static CompiledRule quality(QualityRule rule, List<String> ruleColumns) {
    List<String> columns = ruleColumns;
    if (!rule.columns().isEmpty()) {
      columns = rule.columns();
    }
    String column = columns.isEmpty() ? null : columns.get(0);
    String prefix = column == null || columns.size() > 1 ? "" : column + ".";
    String name =
        rule.name() != null && !rule.name().isBlank() ? rule.name() : prefix + rule.displayName();
    Severity severity = rule.severity();
    Optional<Expectation> stated = rule.expectation();
    if (!rule.type().equals("library")) {
      if (rule.type().equals("sql")) {
        String query = rule.query().replace("{object}", "__kiln_contract_data");
        if (column != null) {
          query = query.replace("{property}", quote(column));
        }
        return new CompiledRule(
            name,
            severity,
            Kind.SQL,
            columns,
            stated.orElseThrow(),
            null,
            false,
            null,
            query,
            null,
            null,
            rule);
      }
      return new CompiledRule(
          name,
          severity,
          Kind.NOT_CHECKED,
          columns,
          null,
          rule.type() + " rule, not machine-checked",
          false,
          null,
          null,
          null,
          null,
          rule);
    }
    if (rule.anomaly() != null) {
      return new CompiledRule(
          name,
          severity,
          Kind.ANOMALY,
          columns,
          null,
          rule.anomaly().describe(),
          false,
          null,
          rule.metric(),
          null,
          rule.anomaly(),
          rule);
    }
    boolean percent = "percent".equals(rule.unit());
    Expectation zero = Expectation.of(Operator.MUST_BE, 0);
    String q = column == null ? null : quote(column);
    return switch (rule.metric()) {
      case "rowCount" ->
          new CompiledRule(
              name,
              severity,
              Kind.ROW_COUNT,
              List.of(),
              stated.orElseThrow(),
              null,
              false,
              null,
              null,
              null,
              null,
              rule);
      case "nullValues" -> {
        Expectation e = stated.orElse(zero);
        yield new CompiledRule(
            name,
            severity,
            Kind.NULL_VALUES,
            columns,
            e,
            unitText(e, percent),
            percent,
            demandsNone(e) ? q + " IS NOT NULL" : null,
            q + " IS NULL",
            null,
            null,
            rule);
      }
      case "missingValues" -> {
        Expectation e = stated.orElse(zero);
        List<String> missing = stringList(rule.arguments().get("missingValues"));
        String condition =
            missing.isEmpty()
                ? q + " IS NULL OR CAST(" + q + " AS STRING) = ''"
                : q + " IS NULL OR CAST(" + q + " AS STRING) IN (" + literals(missing) + ")";
        yield new CompiledRule(
            name,
            severity,
            Kind.MISSING_VALUES,
            columns,
            e,
            unitText(e, percent),
            percent,
            demandsNone(e) ? "NOT (" + condition + ")" : null,
            condition,
            missing,
            null,
            rule);
      }
      case "invalidValues" -> {
        Expectation e = stated.orElse(zero);
        List<String> valid = stringList(rule.arguments().get("validValues"));
        List<String> checks = new ArrayList<>();
        if (!valid.isEmpty()) {
          checks.add("CAST(" + q + " AS STRING) IN (" + literals(valid) + ")");
        }
        if (rule.argument("pattern") != null) {
          checks.add(
              "regexp_extract(CAST("
                  + q
                  + " AS STRING), "
                  + literal(rule.argument("pattern"))
                  + ", 0) <> ''");
        }
        String invalid = q + " IS NOT NULL AND NOT (" + String.join(" AND ", checks) + ")";
        yield new CompiledRule(
            name,
            severity,
            Kind.INVALID_VALUES,
            columns,
            e,
            unitText(e, percent),
            percent,
            demandsNone(e) ? "NOT (" + invalid + ")" : null,
            invalid,
            valid,
            null,
            rule);
      }
      case "duplicateValues" -> {
        Expectation e = stated.orElse(zero);
        if (!percent && !(e.operator() == Operator.MUST_BE && e.first() == 0)) {
          throw Errors.badInput(
              "rule '" + name + "': duplicateValues counted in rows can only be mustBe: 0",
              "write mustBe: 0, or unit: percent with a tolerance");
        }
        yield new CompiledRule(
            name,
            severity,
            Kind.DUPLICATE_VALUES,
            columns,
            e,
            unitText(e, percent),
            percent,
            null,
            null,
            null,
            null,
            rule);
      }
      case "completeness" -> {
        Expectation e = stated.orElse(Expectation.of(Operator.MUST_BE, 1));
        yield new CompiledRule(
            name,
            severity,
            Kind.COMPLETENESS,
            columns,
            e,
            null,
            false,
            demandsAll(e) ? q + " IS NOT NULL" : null,
            null,
            null,
            null,
            rule);
      }
      case "uniqueness" ->
          new CompiledRule(
              name,
              severity,
              Kind.UNIQUENESS,
              columns,
              stated.orElse(Expectation.of(Operator.MUST_BE, 1)),
              null,
              false,
              null,
              null,
              null,
              null,
              rule);
      case "freshness" ->
          new CompiledRule(
              name,
              severity,
              Kind.FRESHNESS,
              columns,
              Expectation.of(Operator.MUST_BE_GREATER_THAN, 0),
              "newest value at most " + rule.maximumAge() + " old",
              false,
              null,
              rule.maximumAge().toString(),
              null,
              null,
              rule);
      case "valuesIn" -> {
        Expectation e = stated.orElse(Expectation.of(Operator.MUST_BE, 1));
        String other = rule.argument("property") == null ? column : rule.argument("property");
        yield new CompiledRule(
            name,
            severity,
            Kind.VALUES_IN,
            columns,
            e,
            "values found in " + rule.argument("dataset") + " column " + other,
            false,
            null,
            rule.argument("dataset"),
            List.of(other),
            null,
            rule);
      }
      case "mean" ->
          new CompiledRule(
              name,
              severity,
              Kind.MEAN,
              columns,
              stated.orElseThrow(),
              null,
              false,
              null,
              null,
              null,
              null,
              rule);
      case "standardDeviation" ->
          new CompiledRule(
              name,
              severity,
              Kind.STANDARD_DEVIATION,
              columns,
              stated.orElseThrow(),
              null,
              false,
              null,
              null,
              null,
              null,
              rule);
      case "minimum" ->
          new CompiledRule(
              name,
              severity,
              Kind.RANGE_MINIMUM,
              columns,
              stated.orElseThrow(),
              null,
              false,
              null,
              null,
              null,
              null,
              rule);
      case "maximum" ->
          new CompiledRule(
              name,
              severity,
              Kind.RANGE_MAXIMUM,
              columns,
              stated.orElseThrow(),
              null,
              false,
              null,
              null,
              null,
              null,
              rule);
      case "quantile" ->
          new CompiledRule(
              name,
              severity,
              Kind.QUANTILE,
              columns,
              stated.orElseThrow(),
              null,
              false,
              null,
              String.valueOf(((Number) rule.arguments().get("quantile")).doubleValue()),
              null,
              null,
              rule);
      case "predicate" -> {
        Expectation e = stated.orElse(Expectation.of(Operator.MUST_BE, 1));
        String expression =
            rule.argument("expression").replace("{property}", column == null ? "{property}" : q);
        yield new CompiledRule(
            name,
            severity,
            Kind.PREDICATE,
            columns,
            e,
            null,
            false,
            demandsAll(e) ? "coalesce(" + expression + ", false)" : null,
            expression,
            null,
            null,
            rule);
      }
      default ->
          throw new IllegalStateException(
              "metric " + rule.metric() + " passed validation but has no translation");
    };
  }

  private static String unitText(Expectation e, boolean percent) {
    return e.describe() + (percent ? " %" : " rows");
  }

  /** A tolerance of zero: every single row must keep to the rule, so each breaking row is named. */
  private static boolean demandsNone(Expectation e) {
    return e.test(0) && !e.test(1e-9) && !e.test(1);
  }

  private static boolean demandsAll(Expectation e) {
    return e.test(1) && !e.test(1 - 1e-9);
  }

  private static CompiledRule rule(
      String name,
      Severity severity,
      Kind kind,
      String column,
      Expectation expectation,
      String text,
      String rowCondition,
      String detail) {
    return new CompiledRule(
        name,
        severity,
        kind,
        column == null ? List.of() : List.of(column),
        expectation,
        text,
        false,
        rowCondition,
        detail,
        null,
        null,
        null);
  }

  private static void requireUniqueNames(List<CompiledRule> rules) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    rules.forEach(r -> counts.merge(r.name(), 1, Integer::sum));
    List<String> twice =
        counts.entrySet().stream()
            .filter(e -> e.getValue() > 1)
            .map(Map.Entry::getKey)
            .collect(Collectors.toList());
    if (!twice.isEmpty()) {
      throw Errors.badInput(
          "the contract has several rules named "
              + Errors.quoted(twice)
              + " (names come from the column and the metric unless given)",
          "give each of those rules its own name: with name: ...");
    }
  }

  static List<String> stringList(Object value) {
    List<String> list = new ArrayList<>();
    if (value instanceof List<?> values) {
      for (Object v : values) {
        if (v != null) {
          list.add(String.valueOf(v));
        }
      }
    }
    return list;
  }

  static String literals(List<String> values) {
    return values.stream().map(CompiledRule::literal).collect(Collectors.joining(", "));
  }

  private static String num(double value) {
    return Expectation.format(value);
  }
}
