package kiln.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

/**
 * A Kubernetes CustomResourceDefinition's structural schema ({@code openAPIV3Schema}) applied to a
 * resource as the API server with strict field validation ({@code kubectl apply --validate=strict})
 * applies it: types, required fields, enums, and unknown fields, which are errors unless the schema
 * preserves them. Formats, patterns and CEL rules are not checked.
 */
final class CrdSchema {
  private final JsonNode schema;

  private CrdSchema(JsonNode schema) {
    this.schema = schema;
  }

  /** The schema of {@code version} in a gzipped CRD file on the test classpath. */
  static CrdSchema fromResource(String resource, String version) throws IOException {
    try (InputStream in =
        new GZIPInputStream(CrdSchema.class.getClassLoader().getResourceAsStream(resource))) {
      JsonNode crd = new YAMLMapper().readTree(in);
      for (JsonNode v : crd.path("spec").path("versions")) {
        if (v.path("name").asText().equals(version)) {
          return new CrdSchema(v.path("schema").path("openAPIV3Schema"));
        }
      }
    }
    throw new IllegalArgumentException(resource + " has no version " + version);
  }

  /** What in {@code resource} the schema refuses, each with its path; empty when it is valid. */
  List<String> validate(JsonNode resource) {
    List<String> problems = new ArrayList<>();
    check(resource, schema, "", problems);
    return problems;
  }

  private static void check(JsonNode value, JsonNode schema, String path, List<String> problems) {
    if (value == null || value.isNull()) {
      if (!schema.path("nullable").asBoolean(false)) {
        problems.add(path + ": null is not allowed");
      }
      return;
    }
    if (schema.path("x-kubernetes-int-or-string").asBoolean(false)) {
      if (!value.isIntegralNumber() && !value.isTextual()) {
        problems.add(path + ": must be an integer or a string, is " + value.getNodeType());
      }
      return;
    }
    String type = schema.path("type").asText("");
    switch (type) {
      case "object" -> object(value, schema, path, problems);
      case "array" -> {
        if (!value.isArray()) {
          problems.add(path + ": must be an array, is " + value.getNodeType());
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          check(value.get(i), schema.path("items"), path + "[" + i + "]", problems);
        }
      }
      case "string" -> {
        if (!value.isTextual()) {
          problems.add(path + ": must be a string, is " + value.getNodeType());
        }
      }
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          problems.add(path + ": must be an integer, is " + value.getNodeType());
        }
      }
      case "number" -> {
        if (!value.isNumber()) {
          problems.add(path + ": must be a number, is " + value.getNodeType());
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          problems.add(path + ": must be a boolean, is " + value.getNodeType());
        }
      }
      default -> {
        // no type: anything (x-kubernetes-preserve-unknown-fields without a type)
      }
    }
    JsonNode allowed = schema.get("enum");
    if (allowed != null && allowed.isArray()) {
      boolean found = false;
      for (JsonNode a : allowed) {
        found |= a.equals(value);
      }
      if (!found) {
        problems.add(path + ": " + value + " is not one of " + allowed);
      }
    }
  }

  private static void object(JsonNode value, JsonNode schema, String path, List<String> problems) {
    if (!value.isObject()) {
      problems.add(path + ": must be an object, is " + value.getNodeType());
      return;
    }
    for (JsonNode required : schema.path("required")) {
      if (!value.has(required.asText())) {
        problems.add(path + ": the required field " + required.asText() + " is missing");
      }
    }
    JsonNode properties = schema.get("properties");
    JsonNode additional = schema.get("additionalProperties");
    boolean preserve = schema.path("x-kubernetes-preserve-unknown-fields").asBoolean(false);
    Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      String at = path + "." + field.getKey();
      if (properties != null && properties.has(field.getKey())) {
        check(field.getValue(), properties.get(field.getKey()), at, problems);
      } else if (additional != null && additional.isObject()) {
        check(field.getValue(), additional, at, problems);
      } else if (properties != null
          && !preserve
          && !(additional != null && additional.asBoolean())) {
        problems.add(at + ": unknown field");
      }
      // an object schema without properties (metadata) takes any fields
    }
  }
}
