package kiln.contracts.internal;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * Which of a contract's standard fields Kiln acts on. The others (team, price, servers, SLAs,
 * authoritative definitions, classifications, ...) are accepted and reported as not checked, by the
 * path they stand at with list indexes left out ({@code schema[].properties[].classification}).
 */
public final class OdcsFields {
  private static final Set<String> CONTRACT =
      Set.of("apiVersion", "kind", "id", "version", "schema");
  private static final Set<String> OBJECT = Set.of("name", "properties", "quality");
  private static final Set<String> PROPERTY =
      Set.of(
          "name",
          "logicalType",
          "physicalType",
          "required",
          "unique",
          "primaryKey",
          "logicalTypeOptions",
          "quality");
  private static final Set<String> OPTIONS =
      Set.of(
          "pattern",
          "minimum",
          "maximum",
          "exclusiveMinimum",
          "exclusiveMaximum",
          "minLength",
          "maxLength");
  private static final Set<String> RULE =
      Set.of(
          "name",
          "type",
          "metric",
          "arguments",
          "unit",
          "query",
          "severity",
          "anomaly",
          "mustBe",
          "mustNotBe",
          "mustBeGreaterThan",
          "mustBeGreaterOrEqualTo",
          "mustBeLessThan",
          "mustBeLessOrEqualTo",
          "mustBeBetween",
          "mustNotBeBetween");

  private OdcsFields() {}

  /** The standard fields present in the contract that Kiln does not act on, sorted. */
  public static List<String> notChecked(JsonNode contract) {
    Set<String> found = new TreeSet<>();
    others(contract, CONTRACT, "", found);
    for (JsonNode object : contract.path("schema")) {
      others(object, OBJECT, "schema[].", found);
      rules(object.path("quality"), "schema[].quality[].", found);
      for (JsonNode property : object.path("properties")) {
        String at = "schema[].properties[].";
        others(property, PROPERTY, at, found);
        String type = property.path("logicalType").asText("");
        // Kiln checks numeric bounds; a date's or timestamp's bounds are strings it does not check
        Set<String> options =
            type.equals("date") || type.equals("timestamp") || type.equals("time")
                ? Set.of()
                : OPTIONS;
        others(property.path("logicalTypeOptions"), options, at + "logicalTypeOptions.", found);
        rules(property.path("quality"), at + "quality[].", found);
      }
    }
    return List.copyOf(found);
  }

  /**
   * Rules of type text and custom are reported as rules not machine-checked, not field by field.
   */
  private static void rules(JsonNode rules, String at, Set<String> found) {
    for (JsonNode rule : rules) {
      String type = rule.path("type").asText("library");
      if (type.equals("library") || type.equals("sql")) {
        others(rule, RULE, at, found);
      }
    }
  }

  private static void others(JsonNode node, Set<String> checked, String at, Set<String> found) {
    node.fieldNames()
        .forEachRemaining(
            key -> {
              if (!checked.contains(key)) {
                found.add(at + key);
              }
            });
  }
}
