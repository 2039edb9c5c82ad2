package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import kiln.core.Errors;

/**
 * An ODCS schema object (a table): its properties (columns) and the quality rules on the whole
 * table.
 */
// the ODCS JSON schema has accepted every key already (Contracts.parse); standard fields this
// record does not model are dropped here and listed as not checked
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "name",
  "physicalName",
  "logicalType",
  "physicalType",
  "description",
  "properties",
  "quality"
})
public record ContractObject(
    String name,
    String physicalName,
    String logicalType,
    String physicalType,
    JsonNode description,
    JsonNode businessName,
    JsonNode tags,
    JsonNode customProperties,
    JsonNode dataGranularityDescription,
    List<ContractProperty> properties,
    List<QualityRule> quality) {

  public ContractObject {
    if (name == null || name.isBlank()) {
      throw Errors.badInput(
          "a schema object has no name; give it one, e.g. name: flights",
          "correct the contract file");
    }
    properties = properties == null ? List.of() : List.copyOf(properties);
    quality = quality == null ? List.of() : List.copyOf(quality);
    Set<String> seen = new HashSet<>();
    for (ContractProperty property : properties) {
      if (!seen.add(property.name())) {
        throw Errors.badInput(
            "schema object '"
                + name
                + "' lists property '"
                + property.name()
                + "' twice; remove one",
            "correct the contract file");
      }
    }
    for (QualityRule rule : quality) {
      if (rule.metric() != null && QualityRule.COLUMN_METRICS.contains(rule.metric())) {
        throw Errors.badInput(
            "rule '"
                + rule.displayName()
                + "': metric "
                + rule.metric()
                + " is about one column; put the rule under that property's quality:",
            "correct the contract file");
      }
      for (String column : rule.columns()) {
        requireProperty(name, properties, column, rule);
      }
    }
    for (ContractProperty property : properties) {
      for (QualityRule rule : property.quality()) {
        if (rule.metric() != null
            && !QualityRule.COLUMN_METRICS.contains(rule.metric())
            && !QualityRule.TABLE_OR_COLUMN_METRICS.contains(rule.metric())) {
          throw Errors.badInput(
              "rule '"
                  + rule.displayName()
                  + "' on property '"
                  + property.name()
                  + "': metric "
                  + rule.metric()
                  + " is about the whole table; put the rule under the object's quality:",
              "correct the contract file");
        }
        for (String column : rule.columns()) {
          requireProperty(name, properties, column, rule);
        }
      }
    }
  }

  public static ContractObject of(
      String name, List<ContractProperty> properties, List<QualityRule> quality) {
    return new ContractObject(
        name, null, "object", "table", null, null, null, null, null, properties, quality);
  }

  private static void requireProperty(
      String name, List<ContractProperty> properties, String column, QualityRule rule) {
    if (properties.stream().noneMatch(p -> p.name().equals(column))) {
      throw Errors.badInput(
          "rule '"
              + rule.displayName()
              + "' names column '"
              + column
              + "', which schema object '"
              + name
              + "' does not declare; declared: "
              + properties.stream().map(ContractProperty::name).collect(Collectors.joining(", ")),
          "correct the contract file");
    }
  }
}
