package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import kiln.core.Errors;

/**
 * An ODCS property (a column): its type, whether it is required or unique, its bounds, its quality
 * rules.
 */
// the ODCS JSON schema has accepted every key already (Contracts.parse); standard fields this
// record does not model are dropped here and listed as not checked
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "name",
  "logicalType",
  "physicalType",
  "required",
  "unique",
  "primaryKey",
  "primaryKeyPosition",
  "logicalTypeOptions",
  "description",
  "quality"
})
public record ContractProperty(
    String name,
    String logicalType,
    String physicalType,
    Boolean required,
    Boolean unique,
    Boolean primaryKey,
    Integer primaryKeyPosition,
    LogicalTypeOptions logicalTypeOptions,
    JsonNode description,
    JsonNode businessName,
    JsonNode classification,
    JsonNode examples,
    JsonNode tags,
    JsonNode customProperties,
    JsonNode criticalDataElement,
    JsonNode transformLogic,
    JsonNode transformSourceObjects,
    JsonNode transformDescription,
    JsonNode encryptedName,
    JsonNode partitioned,
    JsonNode partitionKeyPosition,
    JsonNode authoritativeDefinitions,
    List<QualityRule> quality) {

  /** ODCS logical types. */
  public static final Set<String> LOGICAL_TYPES =
      Set.of(
          "string", "date", "timestamp", "time", "integer", "number", "boolean", "object", "array");

  public ContractProperty {
    if (name == null || name.isBlank()) {
      throw Errors.badInput(
          "a property has no name; give each column its name", "correct the contract file");
    }
    if (logicalType != null && !LOGICAL_TYPES.contains(logicalType.toLowerCase(Locale.ROOT))) {
      throw Errors.badInput(
          "property '"
              + name
              + "' has the unknown logicalType '"
              + logicalType
              + "'; valid: "
              + String.join(", ", new java.util.TreeSet<>(LOGICAL_TYPES)),
          "correct the contract file");
    }
    quality = quality == null ? List.of() : List.copyOf(quality);
    if (logicalTypeOptions != null) {
      boolean numeric =
          logicalTypeOptions.minimum() != null
              || logicalTypeOptions.maximum() != null
              || logicalTypeOptions.exclusiveMinimum() != null
              || logicalTypeOptions.exclusiveMaximum() != null;
      String type = logicalType == null ? null : logicalType.toLowerCase(Locale.ROOT);
      if (numeric && type != null && !type.equals("integer") && !type.equals("number")) {
        throw Errors.badInput(
            "property '"
                + name
                + "' is a "
                + type
                + " but has minimum/maximum, which apply to numbers; remove them or use logicalType integer or number",
            "correct the contract file");
      }
    }
  }

  public static ContractProperty of(
      String name,
      String logicalType,
      String physicalType,
      boolean required,
      LogicalTypeOptions options,
      List<QualityRule> quality) {
    return new ContractProperty(
        name,
        logicalType,
        physicalType,
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
        quality);
  }

  public boolean requiresValues() {
    return Boolean.TRUE.equals(required);
  }

  public boolean requiresUniqueValues() {
    return Boolean.TRUE.equals(unique);
  }

  public boolean inPrimaryKey() {
    return Boolean.TRUE.equals(primaryKey);
  }

  public LogicalTypeOptions options() {
    return logicalTypeOptions == null
        ? new LogicalTypeOptions(null, null, null, null, null, null, null, null, null, null)
        : logicalTypeOptions;
  }
}
