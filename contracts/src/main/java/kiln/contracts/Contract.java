package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import kiln.core.Errors;

/**
 * A data contract in the Open Data Contract Standard (ODCS) v3 layout: what a dataset must look
 * like. Fields Kiln does not check ({@code description}, {@code team}, {@code servers}, ...) are
 * accepted and kept as they are, so that a contract written for other ODCS tools reads here too.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({
  "apiVersion",
  "kind",
  "id",
  "name",
  "version",
  "status",
  "description",
  "schema"
})
public record Contract(
    String apiVersion,
    String kind,
    String id,
    String name,
    String version,
    String status,
    JsonNode description,
    JsonNode domain,
    JsonNode dataProduct,
    JsonNode tenant,
    JsonNode tags,
    JsonNode team,
    JsonNode roles,
    JsonNode servers,
    JsonNode support,
    JsonNode slaProperties,
    JsonNode customProperties,
    JsonNode contractCreatedTs,
    List<ContractObject> schema) {

  public static final String KIND = "DataContract";

  public Contract {
    if (apiVersion == null || !apiVersion.matches("v3\\.\\d+\\.\\d+")) {
      throw Errors.badInput(
          "apiVersion '" + apiVersion + "' is not an ODCS v3 version; write apiVersion: v3.1.0",
          "correct the contract file");
    }
    if (!KIND.equals(kind)) {
      throw Errors.badInput(
          "kind '" + kind + "' is not " + KIND + "; write kind: " + KIND,
          "correct the contract file");
    }
    if (id == null || id.isBlank()) {
      throw Errors.badInput(
          "the contract has no id; give it one, e.g. id: flights", "correct the contract file");
    }
    if (version == null || version.isBlank()) {
      throw Errors.badInput(
          "the contract has no version; give it one, e.g. version: 1.0.0",
          "correct the contract file");
    }
    if (schema == null || schema.isEmpty()) {
      throw Errors.badInput(
          "the contract has no schema objects; describe the dataset under schema:",
          "correct the contract file");
    }
    schema = List.copyOf(schema);
    long distinct = schema.stream().map(ContractObject::name).distinct().count();
    if (distinct != schema.size()) {
      throw Errors.badInput(
          "two schema objects have the same name; names are "
              + schema.stream().map(ContractObject::name).collect(Collectors.joining(", ")),
          "correct the contract file");
    }
  }

  /** A contract with only the fields Kiln checks. */
  public static Contract of(String id, String version, List<ContractObject> schema) {
    return new Contract(
        "v3.1.0", KIND, id, null, version, "draft", null, null, null, null, null, null, null, null,
        null, null, null, null, schema);
  }

  /** The schema object a dataset is checked against: the one named, or the only one. */
  public ContractObject object(String name) {
    if (name == null) {
      if (schema.size() == 1) {
        return schema.get(0);
      }
      throw kiln.core.Errors.badInput(
          "contract "
              + id
              + " describes "
              + schema.size()
              + " objects ("
              + names()
              + ") and none was chosen",
          "name the one to check with --object");
    }
    return schema.stream()
        .filter(o -> o.name().equals(name))
        .findFirst()
        .orElseThrow(
            () ->
                kiln.core.Errors.badInput(
                    "contract " + id + " has no schema object '" + name + "'",
                    "use one of " + names()));
  }

  private String names() {
    return schema.stream().map(o -> "'" + o.name() + "'").collect(Collectors.joining(", "));
  }

  @Override
  public String toString() {
    return "contract " + Objects.toString(id) + " " + version;
  }
}
