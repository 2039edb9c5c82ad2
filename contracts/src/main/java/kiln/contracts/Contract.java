package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;
import kiln.core.Errors;

/**
 * A data contract in the Open Data Contract Standard (ODCS) v3 layout: what a dataset must look
 * like. {@link Contracts#read} first checks the file against the official ODCS JSON schema, so
 * every standard field is accepted; those this record does not model ({@code price}, {@code
 * slaDefaultElement}, ...) are dropped when it is built, and every standard field Kiln does not act
 * on is listed in {@link #notChecked}, which the check's report repeats.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
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
    List<ContractObject> schema,
    @JsonIgnore List<String> notChecked) {

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
    // a contract without schema objects is valid ODCS (team, roles, SLAs only); it reads, and
    // checking a dataset against it says there is nothing to check it with
    schema = schema == null ? List.of() : List.copyOf(schema);
    notChecked = notChecked == null ? List.of() : List.copyOf(notChecked);
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
        null, null, null, null, schema, List.of());
  }

  /**
   * The same contract, knowing which of its standard fields Kiln does not act on (paths such as
   * {@code price} or {@code schema[].properties[].classification}).
   */
  public Contract withNotChecked(List<String> fields) {
    return new Contract(
        apiVersion,
        kind,
        id,
        name,
        version,
        status,
        description,
        domain,
        dataProduct,
        tenant,
        tags,
        team,
        roles,
        servers,
        support,
        slaProperties,
        customProperties,
        contractCreatedTs,
        schema,
        fields);
  }

  /** The schema object a dataset is checked against: the one named, or the only one. */
  public ContractObject object(String name) {
    if (schema.isEmpty()) {
      throw kiln.core.Errors.badInput(
          "contract " + id + " describes no schema objects, so no dataset can be checked with it",
          "describe the dataset under schema: (its properties and quality rules)");
    }
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
