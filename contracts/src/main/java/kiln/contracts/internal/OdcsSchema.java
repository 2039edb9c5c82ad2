package kiln.contracts.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import com.networknt.schema.path.NodePath;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The official ODCS JSON schemas (resources {@code kiln/contracts/odcs/}, unchanged copies of the
 * standard's files) with Kiln's extensions added in memory: the quality metrics Kiln has beyond the
 * standard's five, and {@code anomaly} on a quality rule. A contract is valid when it keeps to the
 * schema of its own {@code apiVersion} or to a later one that lists that version (the standard
 * validates its own examples against its newest schema, and several of them declare an older
 * version).
 */
public final class OdcsSchema {
  /** The versions Kiln has a schema for, oldest first. */
  public static final List<String> VERSIONS =
      List.of("v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0", "v3.2.0");

  /** Metrics Kiln checks that the standard does not define (ODCS: nullValues ... rowCount). */
  public static final List<String> KILN_METRICS =
      List.of(
          "completeness",
          "uniqueness",
          "freshness",
          "valuesIn",
          "mean",
          "standardDeviation",
          "quantile",
          "minimum",
          "maximum",
          "predicate");

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String> OPERATORS =
      List.of(
          "mustBe",
          "mustNotBe",
          "mustBeGreaterThan",
          "mustBeGreaterOrEqualTo",
          "mustBeLessThan",
          "mustBeLessOrEqualTo",
          "mustBeBetween",
          "mustNotBeBetween");
  private static final String BASE = "https://kiln.invalid/odcs/";
  private static volatile OdcsSchema instance;

  private final Map<String, JsonNode> trees = new LinkedHashMap<>();
  private final Map<String, Schema> schemas = new HashMap<>();

  /**
   * One violation: where (a JSON pointer into the contract), what, and for an unknown key the keys
   * allowed there.
   */
  public record Violation(
      String pointer, String message, String unknownKey, Set<String> validKeys) {}

  private OdcsSchema() {
    Map<String, String> texts = new HashMap<>();
    for (String version : VERSIONS) {
      ObjectNode tree = (ObjectNode) read("odcs-json-schema-" + version + ".json");
      withKilnExtensions(tree);
      trees.put(version, tree);
      texts.put(BASE + version + ".json", tree.toString());
    }
    SchemaRegistry registry =
        SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2019_09, builder -> builder.schemas(texts));
    for (String version : VERSIONS) {
      schemas.put(version, registry.getSchema(SchemaLocation.of(BASE + version + ".json")));
    }
  }

  public static OdcsSchema instance() {
    OdcsSchema schema = instance;
    if (schema == null) {
      synchronized (OdcsSchema.class) {
        if (instance == null) {
          instance = new OdcsSchema();
        }
        schema = instance;
      }
    }
    return schema;
  }

  /**
   * The contract's violations of its version's schema; empty when that schema or a later one that
   * lists the version accepts it.
   */
  public List<Violation> violations(JsonNode contract, String apiVersion) {
    if (!schemas.containsKey(apiVersion)) {
      throw new IllegalArgumentException("no ODCS schema for " + apiVersion);
    }
    List<Error> own = schemas.get(apiVersion).validate(contract);
    if (own.isEmpty()) {
      return List.of();
    }
    for (String later : VERSIONS.subList(VERSIONS.indexOf(apiVersion) + 1, VERSIONS.size())) {
      if (lists(later, apiVersion) && schemas.get(later).validate(contract).isEmpty()) {
        return List.of();
      }
    }
    return explain(apiVersion, own);
  }

  private boolean lists(String schemaVersion, String apiVersion) {
    for (JsonNode value :
        trees.get(schemaVersion).path("properties").path("apiVersion").path("enum")) {
      if (value.asText().equals(apiVersion)) {
        return true;
      }
    }
    return false;
  }

  /**
   * The errors people can act on: unknown keys first, then wrong values; the summaries of {@code
   * oneOf}/{@code anyOf}/{@code if} branches only when nothing more precise was said.
   */
  private List<Violation> explain(String version, List<Error> errors) {
    List<Violation> unknown = new ArrayList<>();
    List<Violation> values = new ArrayList<>();
    List<Violation> summaries = new ArrayList<>();
    for (Error error : errors) {
      String pointer = pointer(error.getInstanceLocation());
      String keyword = error.getKeyword() == null ? "" : error.getKeyword();
      String evaluation = error.getEvaluationPath().toString();
      boolean combinator = keyword.equals("oneOf") || keyword.equals("anyOf");
      if (!combinator && (evaluation.contains("oneOf") || evaluation.contains("anyOf"))) {
        // one branch's complaint; which branch was meant is unknown, so the summary speaks
        continue;
      }
      if (keyword.equals("oneOf")
          && error.getSchemaLocation().toString().contains("DataQualityOperators")) {
        List<String> given = new ArrayList<>();
        error
            .getInstanceNode()
            .fieldNames()
            .forEachRemaining(
                k -> {
                  if (OPERATORS.contains(k)) {
                    given.add(k);
                  }
                });
        values.add(
            new Violation(
                pointer,
                "the rule has "
                    + given.size()
                    + " operators ("
                    + String.join(", ", given)
                    + "); give one, e.g. mustBeBetween: [low, high]",
                null,
                Set.of()));
        continue;
      }
      switch (keyword) {
        case "unevaluatedProperties", "additionalProperties" -> {
          String key = error.getProperty();
          Set<String> valid = validKeys(version, error);
          // a key the schema declares counts as unevaluated when the branch declaring it failed
          // on something else: that failure is reported, not the key
          if (!valid.contains(key)) {
            String at = key == null ? pointer : pointer + "/" + escape(key);
            unknown.add(new Violation(at, "unknown key '" + key + "'", key, valid));
          }
        }
        case "enum" -> {
          String key = pointer.substring(pointer.lastIndexOf('/') + 1);
          TreeSet<String> valid = new TreeSet<>();
          error.getSchemaNode().forEach(v -> valid.add(v.asText()));
          values.add(
              new Violation(
                  pointer,
                  "unknown "
                      + key
                      + " '"
                      + error.getInstanceNode().asText()
                      + "'; valid "
                      + key
                      + "s: "
                      + String.join(", ", valid),
                  null,
                  Set.of()));
        }
        case "oneOf", "anyOf", "allOf", "if", "then", "else", "not" ->
            summaries.add(new Violation(pointer, message(error), null, Set.of()));
        default -> values.add(new Violation(pointer, message(error), null, Set.of()));
      }
    }
    List<Violation> result = new ArrayList<>(dedupe(unknown));
    result.addAll(dedupe(values));
    if (result.isEmpty()) {
      result.addAll(dedupe(summaries));
    }
    return result;
  }

  private static List<Violation> dedupe(List<Violation> violations) {
    Map<String, Violation> seen = new LinkedHashMap<>();
    for (Violation v : violations) {
      seen.putIfAbsent(v.pointer() + " " + v.message(), v);
    }
    return new ArrayList<>(seen.values());
  }

  /** The library's message without its leading instance path, which Kiln gives as file:line. */
  private static String message(Error error) {
    String message = error.getMessage();
    int colon = message.indexOf(": ");
    return message.startsWith("$") && colon > 0 ? message.substring(colon + 2) : message;
  }

  /**
   * Every key the schema object that refused a key declares, through {@code $ref}, {@code allOf},
   * {@code anyOf}, {@code oneOf} and conditional branches.
   */
  private Set<String> validKeys(String version, Error error) {
    NodePath fragment = error.getSchemaLocation().getFragment();
    JsonNode node = trees.get(version);
    for (int i = 0; i < fragment.getNameCount() - 1; i++) {
      Object element = fragment.getElement(i);
      node = element instanceof Integer index ? node.path(index) : node.path(element.toString());
    }
    Set<String> keys = new TreeSet<>();
    collectKeys(version, node, keys, new java.util.HashSet<>());
    return keys;
  }

  private void collectKeys(String version, JsonNode node, Set<String> keys, Set<JsonNode> seen) {
    if (node == null || !node.isObject() || !seen.add(node)) {
      return;
    }
    node.path("properties").fieldNames().forEachRemaining(keys::add);
    if (node.has("$ref") && node.get("$ref").asText().startsWith("#/")) {
      JsonNode target = trees.get(version);
      for (String part : node.get("$ref").asText().substring(2).split("/")) {
        target = target.path(part);
      }
      collectKeys(version, target, keys, seen);
    }
    for (String combinator : List.of("allOf", "anyOf", "oneOf")) {
      for (JsonNode branch : node.path(combinator)) {
        collectKeys(version, branch, keys, seen);
      }
    }
    collectKeys(version, node.get("then"), keys, seen);
    collectKeys(version, node.get("else"), keys, seen);
  }

  /** A JSON pointer ({@code /schema/0/properties/2}) from the library's node path. */
  static String pointer(NodePath path) {
    StringBuilder pointer = new StringBuilder();
    for (int i = 0; i < path.getNameCount(); i++) {
      pointer.append('/').append(escape(String.valueOf(path.getElement(i))));
    }
    return pointer.toString();
  }

  private static String escape(String key) {
    return key.replace("~", "~0").replace("/", "~1");
  }

  /**
   * Kiln's extensions: its own metrics are valid library metrics, a rule may have {@code anomaly},
   * and a rule may leave out the operator (Kiln then applies its metric's default, judges by the
   * anomaly strategy or by {@code arguments}, or says the operator is missing).
   */
  private static void withKilnExtensions(ObjectNode schema) {
    JsonNode operators = schema.path("$defs").path("DataQualityOperators");
    if (operators instanceof ObjectNode definition
        && definition.get("oneOf") instanceof ArrayNode branches) {
      // "exactly one operator" becomes "if there is an operator, exactly one"
      ArrayNode any = JSON.createArrayNode();
      for (JsonNode branch : branches) {
        branch.path("required").forEach(key -> any.addObject().putArray("required").add(key));
      }
      definition.remove("oneOf");
      definition.putObject("if").set("anyOf", any);
      definition.putObject("then").set("oneOf", branches);
    }
    JsonNode metric =
        schema.path("$defs").path("DataQualityLibrary").path("properties").path("metric");
    if (metric.path("enum") instanceof ArrayNode values) {
      KILN_METRICS.forEach(values::add);
    }
    JsonNode quality = schema.path("$defs").path("DataQuality").path("properties");
    if (quality instanceof ObjectNode properties) {
      ObjectNode anomaly = properties.putObject("anomaly");
      anomaly.put("type", "object");
      anomaly.put(
          "description",
          "Kiln extension: compare the rule's metric with its history (strategy and its bounds).");
    }
  }

  private static JsonNode read(String file) {
    String resource = "/kiln/contracts/odcs/" + file;
    try (InputStream in = OdcsSchema.class.getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("the kiln jar lacks " + resource);
      }
      return JSON.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + resource, e);
    }
  }
}
