package kiln.tracking.server;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.mlflow_project.google.protobuf.Descriptors.Descriptor;
import org.mlflow_project.google.protobuf.Descriptors.FieldDescriptor;
import org.mlflow_project.google.protobuf.InvalidProtocolBufferException;
import org.mlflow_project.google.protobuf.Message;
import org.mlflow_project.google.protobuf.util.JsonFormat;

/**
 * MLflow's wire format: proto messages as JSON with snake_case names and int64 values as strings.
 */
final class Json {
  // Python clients send NaN and Infinity as bare literals; JsonFormat accepts them only as strings.
  private static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(JsonParser.Feature.ALLOW_NON_NUMERIC_NUMBERS)
          .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
  // Strict, so that a bad enum value is an error; unknown fields are pruned beforehand as MLflow
  // ignores them.
  private static final JsonFormat.Parser PARSER = JsonFormat.parser();
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();

  private Json() {}

  static <T extends Message> T parseBody(byte[] body, T prototype) {
    if (body.length == 0) {
      return prototype;
    }
    JsonNode tree;
    try {
      tree = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest(
          "Malformed JSON in the request body: " + e.getOriginalMessage());
    } catch (java.io.IOException e) {
      throw ApiException.badRequest("Unreadable request body.");
    }
    if (tree == null || tree.isMissingNode()) {
      return prototype;
    }
    if (!tree.isObject()) {
      throw ApiException.badRequest(
          "The request body must be a JSON object, not " + tree.getNodeType() + ".");
    }
    return merge(tree, prototype);
  }

  /**
   * GET requests carry their fields as query parameters; repeated fields may appear several times.
   */
  static <T extends Message> T parseQuery(Map<String, List<String>> query, T prototype) {
    ObjectNode tree = MAPPER.createObjectNode();
    for (FieldDescriptor field : prototype.getDescriptorForType().getFields()) {
      List<String> values = query.get(field.getName());
      if (values == null || values.isEmpty()) {
        continue;
      }
      if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        throw ApiException.invalidParameter(
            "Field '" + field.getName() + "' cannot be passed as a query parameter.");
      }
      if (field.isRepeated()) {
        ArrayNode array = tree.putArray(field.getName());
        values.forEach(array::add);
      } else {
        tree.put(field.getName(), values.get(values.size() - 1));
      }
    }
    return merge(tree, prototype);
  }

  @SuppressWarnings("unchecked")
  private static <T extends Message> T merge(JsonNode tree, T prototype) {
    Message.Builder builder = prototype.newBuilderForType();
    pruneUnknownFields(tree, prototype.getDescriptorForType());
    try {
      PARSER.merge(MAPPER.writeValueAsString(tree), builder);
    } catch (InvalidProtocolBufferException e) {
      throw ApiException.invalidParameter(
          "Invalid value in the request: " + Validation.abbreviate(String.valueOf(e.getMessage())));
    } catch (JsonProcessingException | RuntimeException e) {
      throw ApiException.invalidParameter(
          "Invalid value in the request: " + Validation.abbreviate(String.valueOf(e.getMessage())));
    }
    return (T) builder.build();
  }

  private static void pruneUnknownFields(JsonNode node, Descriptor descriptor) {
    if (!(node instanceof ObjectNode object)) {
      return;
    }
    List<String> names = new java.util.ArrayList<>();
    object.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      FieldDescriptor byName = descriptor.findFieldByName(name);
      FieldDescriptor field =
          byName != null
              ? byName
              : descriptor.getFields().stream()
                  .filter(f -> f.getJsonName().equals(name))
                  .findFirst()
                  .orElse(null);
      if (field == null) {
        object.remove(name);
      } else if (field.getJavaType() == FieldDescriptor.JavaType.MESSAGE) {
        JsonNode value = object.get(name);
        if (value.isArray()) {
          value.forEach(element -> pruneUnknownFields(element, field.getMessageType()));
        } else {
          pruneUnknownFields(value, field.getMessageType());
        }
      }
    }
  }

  static byte[] print(Message message) {
    try {
      return PRINTER.print(message).getBytes(StandardCharsets.UTF_8);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException(
          "cannot print " + message.getDescriptorForType().getFullName(), e);
    }
  }

  static byte[] error(String code, String message) {
    ObjectNode error = MAPPER.createObjectNode();
    error.put("error_code", code);
    error.put("message", message);
    try {
      return MAPPER.writeValueAsBytes(error);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write an error body", e);
    }
  }
}
