package kiln.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * An AWS service model's shapes (botocore's JSON) applied to a request as AWS's SDKs validate one
 * before sending it: structures take only their members and need the required ones; lists, maps,
 * strings, enums, numbers and booleans are of their type. Lengths and patterns are not checked.
 */
final class AwsShapes {
  private final JsonNode model;

  private AwsShapes(JsonNode model) {
    this.model = model;
  }

  static AwsShapes fromResource(String resource) throws IOException {
    try (InputStream in = AwsShapes.class.getClassLoader().getResourceAsStream(resource)) {
      return new AwsShapes(new ObjectMapper().readTree(in));
    }
  }

  /** What in {@code request} the operation's input shape refuses; empty when it is valid. */
  List<String> validateInput(String operation, JsonNode request) {
    String shape = model.path("operations").path(operation).path("input").path("shape").asText();
    if (shape.isEmpty()) {
      throw new IllegalArgumentException("no operation " + operation);
    }
    List<String> problems = new ArrayList<>();
    check(request, shape, "", problems);
    return problems;
  }

  private void check(JsonNode value, String shapeName, String path, List<String> problems) {
    JsonNode shape = model.path("shapes").path(shapeName);
    String type = shape.path("type").asText();
    switch (type) {
      case "structure" -> {
        if (!value.isObject()) {
          problems.add(path + ": must be an object (" + shapeName + ")");
          return;
        }
        for (JsonNode required : shape.path("required")) {
          if (!value.has(required.asText())) {
            problems.add(path + ": the required member " + required.asText() + " is missing");
          }
        }
        Iterator<Map.Entry<String, JsonNode>> fields = value.fields();
        while (fields.hasNext()) {
          Map.Entry<String, JsonNode> field = fields.next();
          JsonNode member = shape.path("members").get(field.getKey());
          if (member == null) {
            problems.add(path + "." + field.getKey() + ": not a member of " + shapeName);
          } else {
            check(
                field.getValue(),
                member.path("shape").asText(),
                path + "." + field.getKey(),
                problems);
          }
        }
      }
      case "list" -> {
        if (!value.isArray()) {
          problems.add(path + ": must be a list (" + shapeName + ")");
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          check(
              value.get(i),
              shape.path("member").path("shape").asText(),
              path + "[" + i + "]",
              problems);
        }
      }
      case "map" -> {
        if (!value.isObject()) {
          problems.add(path + ": must be a map (" + shapeName + ")");
          return;
        }
        value
            .fields()
            .forEachRemaining(
                e ->
                    check(
                        e.getValue(),
                        shape.path("value").path("shape").asText(),
                        path + "." + e.getKey(),
                        problems));
      }
      case "string" -> {
        if (!value.isTextual()) {
          problems.add(path + ": must be a string (" + shapeName + ")");
        } else if (shape.has("enum")) {
          boolean found = false;
          for (JsonNode e : shape.get("enum")) {
            found |= e.asText().equals(value.asText());
          }
          if (!found) {
            problems.add(path + ": " + value + " is not one of " + shape.get("enum"));
          }
        }
      }
      case "integer", "long" -> {
        if (!value.isIntegralNumber()) {
          problems.add(path + ": must be an integer (" + shapeName + ")");
        }
      }
      case "double", "float" -> {
        if (!value.isNumber()) {
          problems.add(path + ": must be a number (" + shapeName + ")");
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          problems.add(path + ": must be a boolean (" + shapeName + ")");
        }
      }
      default -> {
        // timestamp, blob: not used by Kiln's requests
      }
    }
  }
}
