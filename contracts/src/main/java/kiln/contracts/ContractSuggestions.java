package kiln.contracts;

import com.amazon.deequ.profiles.ColumnProfile;
import com.amazon.deequ.profiles.NumericColumnProfile;
import com.amazon.deequ.suggestions.ConstraintSuggestion;
import com.amazon.deequ.suggestions.ConstraintSuggestionResult;
import com.amazon.deequ.suggestions.ConstraintSuggestionRunner;
import com.amazon.deequ.suggestions.Rules;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import kiln.contracts.internal.Expectation;
import kiln.contracts.internal.SchemaComparison;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import scala.collection.JavaConverters;

/**
 * Drafts a contract from Deequ's column profiles and constraint suggestions. Every suggested rule
 * has severity error and holds on the data it was drafted from, so {@code kiln contracts check}
 * accepts the draft as it is and a later version that breaks it fails.
 */
public final class ContractSuggestions {
  private ContractSuggestions() {}

  /**
   * Deequ's suggestions that translate exactly into contract rules (no approximate uniqueness, no
   * fractions).
   */
  public static Contract suggest(Dataset<Row> data, String id, String objectName) {
    List<com.amazon.deequ.suggestions.rules.ConstraintRule<ColumnProfile>> rules =
        new ArrayList<>();
    rules.addAll(JavaConverters.seqAsJavaList(Rules.DEFAULT()));
    rules.addAll(JavaConverters.seqAsJavaList(Rules.NUMERICAL()));
    rules.addAll(JavaConverters.seqAsJavaList(Rules.STRING()));
    ConstraintSuggestionResult result =
        new ConstraintSuggestionRunner()
            .onData(data)
            .addConstraintRules(JavaConverters.asScalaBuffer(rules).toList())
            .run();
    Map<String, ColumnProfile> profiles = JavaConverters.mapAsJavaMap(result.columnProfiles());
    Map<String, scala.collection.Seq<ConstraintSuggestion>> suggestions =
        JavaConverters.mapAsJavaMap(result.constraintSuggestions());
    long rows = result.numRecordsUsedForProfiling();

    List<ContractProperty> properties = new ArrayList<>();
    for (StructField field : data.schema().fields()) {
      String column = field.name();
      boolean numeric = field.dataType() instanceof NumericType;
      boolean text = field.dataType().simpleString().equals("string");
      boolean required = false;
      Double minimum = null;
      Double maximum = null;
      Integer minLength = null;
      Integer maxLength = null;
      List<QualityRule> quality = new ArrayList<>();
      ColumnProfile profile = profiles.get(column);
      List<ConstraintSuggestion> forColumn =
          suggestions.containsKey(column)
              ? JavaConverters.seqAsJavaList(suggestions.get(column))
              : List.of();
      for (ConstraintSuggestion suggestion : forColumn) {
        String rule = suggestion.suggestingRule().getClass().getSimpleName();
        switch (rule) {
          case "CompleteIfCompleteRule" -> required = true;
          case "RetainCompletenessRule" -> {
            double p = profile.completeness();
            double bound = Math.max(0, p - 1.96 * Math.sqrt(p * (1 - p) / Math.max(1, rows)));
            quality.add(
                QualityRule.library(
                    null,
                    "completeness",
                    Map.of(),
                    Expectation.of(
                        Expectation.Operator.MUST_BE_GREATER_OR_EQUAL_TO, roundDown(bound)),
                    Severity.ERROR));
          }
          case "CategoricalRangeRule" -> {
            if (profile.histogram().isDefined()) {
              TreeSet<String> values =
                  new TreeSet<>(
                      JavaConverters.mapAsJavaMap(profile.histogram().get().values()).keySet());
              values.remove("NullValue");
              Map<String, Object> arguments = new LinkedHashMap<>();
              arguments.put("validValues", new ArrayList<>(values));
              quality.add(
                  QualityRule.library(
                      null,
                      "invalidValues",
                      arguments,
                      Expectation.of(Expectation.Operator.MUST_BE, 0),
                      Severity.ERROR));
            }
          }
          case "NonNegativeNumbersRule" -> {
            if (numeric) {
              minimum = minimum == null ? 0.0 : Math.max(minimum, 0.0);
            }
          }
          case "HasMin" -> {
            if (numeric && profile instanceof NumericColumnProfile n && n.minimum().isDefined()) {
              minimum = (Double) n.minimum().get();
            }
          }
          case "HasMax" -> {
            if (numeric && profile instanceof NumericColumnProfile n && n.maximum().isDefined()) {
              maximum = (Double) n.maximum().get();
            }
          }
          case "HasMinLength" ->
              minLength = text ? lengthFrom(suggestion.description()) : minLength;
          case "HasMaxLength" ->
              maxLength = text ? lengthFrom(suggestion.description()) : maxLength;
          default -> {} // types come from the schema; fractional ranges and means are no exact rule
        }
      }
      LogicalTypeOptions options =
          minimum == null && maximum == null && minLength == null && maxLength == null
              ? null
              : new LogicalTypeOptions(
                  null, minimum, maximum, null, null, minLength, maxLength, null, null, null);
      properties.add(
          new ContractProperty(
              column,
              SchemaComparison.logicalType(field.dataType()),
              field.dataType().simpleString(),
              required ? Boolean.TRUE : null,
              null,
              null,
              null,
              options,
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
              null,
              null,
              quality));
    }
    List<QualityRule> tableRules =
        List.of(
            QualityRule.library(
                "rowCount",
                "rowCount",
                Map.of(),
                Expectation.of(Expectation.Operator.MUST_BE_GREATER_THAN, 0),
                Severity.ERROR));
    ContractObject object = ContractObject.of(objectName, properties, tableRules);
    return Contract.of(id, "0.1.0", List.of(object));
  }

  private static double roundDown(double value) {
    return BigDecimal.valueOf(value).setScale(4, RoundingMode.FLOOR).doubleValue();
  }

  /**
   * Deequ states the length at the end of its description ("The length of 'c' <= 3"); its
   * currentValue is wrong.
   */
  private static Integer lengthFrom(String description) {
    try {
      return (int)
          Double.parseDouble(description.substring(description.lastIndexOf(' ') + 1).trim());
    } catch (RuntimeException e) {
      return null;
    }
  }
}
