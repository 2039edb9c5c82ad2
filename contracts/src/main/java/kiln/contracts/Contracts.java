package kiln.contracts;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import kiln.contracts.internal.OdcsFields;
import kiln.contracts.internal.OdcsSchema;
import kiln.contracts.internal.RuleCompiler;
import kiln.contracts.internal.YamlLocations;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/** Reading and writing contract files. */
public final class Contracts {
  private static final com.fasterxml.jackson.databind.ObjectMapper WRITER =
      new com.fasterxml.jackson.databind.ObjectMapper(
              com.fasterxml.jackson.dataformat.yaml.YAMLFactory.builder()
                  .enable(
                      com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature.MINIMIZE_QUOTES)
                  .disable(
                      com.fasterxml.jackson.dataformat.yaml.YAMLGenerator.Feature
                          .WRITE_DOC_START_MARKER)
                  .build())
          .setSerializationInclusion(
              com.fasterxml.jackson.annotation.JsonInclude.Include.NON_EMPTY);

  private Contracts() {}

  /**
   * Reads and validates a contract file: YAML errors with file, line and column; the contract
   * checked against the official ODCS JSON schema of its apiVersion (every standard field is
   * accepted; a key outside the standard is named with its line and the valid keys); Kiln's own
   * rules then: unknown metrics and types named with the valid ones; rules on undeclared columns,
   * bad regular expressions and minimums above maximums refused. Throws {@link
   * kiln.core.BadInputException} (exit 2).
   */
  public static Contract read(Path file) {
    String text;
    try {
      text = java.nio.file.Files.readString(file);
    } catch (java.nio.file.NoSuchFileException e) {
      throw Errors.notFound("file " + file + " does not exist", "check the path", e);
    } catch (java.io.IOException e) {
      throw Errors.badInput(
          "cannot read " + file + ": " + e.getMessage(), "check the file's permissions", e);
    }
    return parse(text, file.toString());
  }

  /** The JSON pointer of the first .inf or .nan in the tree, or null. */
  private static String nonFinite(JsonNode node, String pointer) {
    if (node.isFloatingPointNumber() && !Double.isFinite(node.doubleValue())) {
      return pointer;
    }
    if (node.isObject()) {
      for (var fields = node.fields(); fields.hasNext(); ) {
        var field = fields.next();
        String found =
            nonFinite(
                field.getValue(),
                pointer + "/" + field.getKey().replace("~", "~0").replace("/", "~1"));
        if (found != null) {
          return found;
        }
      }
    } else if (node.isArray()) {
      for (int i = 0; i < node.size(); i++) {
        String found = nonFinite(node.get(i), pointer + "/" + i);
        if (found != null) {
          return found;
        }
      }
    }
    return null;
  }

  public static Contract parse(String yaml, String source) {
    JsonNode tree = YamlFiles.parse(yaml, source, JsonNode.class);
    if (!tree.isObject()) {
      throw Errors.badInput(
          source + " is not a contract: it holds a " + tree.getNodeType().toString().toLowerCase(),
          "write an ODCS contract (apiVersion, kind: DataContract, id, version, status, schema)");
    }
    YamlLocations locations = YamlLocations.of(yaml);
    String infinite = nonFinite(tree, "");
    if (infinite != null) {
      // found by ContractParserFuzzTest: the schema validator cannot compare .inf or .nan with an
      // enum's values and throws NumberFormatException
      throw Errors.badInput(
          source
              + ":"
              + locations.at(infinite)
              + ": the value at "
              + YamlLocations.readable(infinite)
              + " is not a finite number",
          "write a finite number (or quote the text)");
    }
    String apiVersion = tree.path("apiVersion").asText(null);
    if (apiVersion == null) {
      // found by ContractParserFuzzTest: List.of(...).contains(null) throws instead of saying so
      throw Errors.badInput(
          source + ": apiVersion is missing; valid: " + String.join(", ", OdcsSchema.VERSIONS),
          "write apiVersion: v3.1.0 (or the version the contract was written for)");
    }
    if (!OdcsSchema.VERSIONS.contains(apiVersion)) {
      throw Errors.badInput(
          source
              + ":"
              + locations.at("/apiVersion")
              + ": apiVersion '"
              + apiVersion
              + "' is not an ODCS version Kiln has the schema of; valid: "
              + String.join(", ", OdcsSchema.VERSIONS),
          "write apiVersion: v3.1.0 (or the version the contract was written for)");
    }
    List<OdcsSchema.Violation> violations = OdcsSchema.instance().violations(tree, apiVersion);
    if (!violations.isEmpty()) {
      throw invalid(source, apiVersion, locations, violations);
    }
    Contract contract = YamlFiles.parse(yaml, source, Contract.class);
    return validated(contract.withNotChecked(OdcsFields.notChecked(tree)));
  }

  /** At most this many violations are listed; the rest are counted. */
  private static final int MAX_LISTED = 10;

  private static kiln.core.BadInputException invalid(
      String source,
      String apiVersion,
      YamlLocations locations,
      List<OdcsSchema.Violation> violations) {
    StringBuilder message =
        new StringBuilder(
            source
                + " is not a valid ODCS "
                + apiVersion
                + " contract ("
                + violations.size()
                + " problem"
                + (violations.size() == 1 ? "" : "s")
                + "):");
    for (OdcsSchema.Violation v : violations.subList(0, Math.min(MAX_LISTED, violations.size()))) {
      String path = YamlLocations.readable(v.pointer());
      message.append("\n  ").append(source).append(':').append(locations.at(v.pointer()));
      message.append(": ").append(v.message());
      if (v.unknownKey() != null) {
        String parent =
            YamlLocations.readable(v.pointer().substring(0, v.pointer().lastIndexOf('/')));
        message.append(parent.isEmpty() ? " at the top level" : " (at " + parent + ")");
        message.append("; valid keys: ").append(String.join(", ", v.validKeys()));
      } else if (!path.isEmpty()) {
        message.append(" (at ").append(path).append(')');
      }
    }
    if (violations.size() > MAX_LISTED) {
      message.append("\n  ... and ").append(violations.size() - MAX_LISTED).append(" more");
    }
    OdcsSchema.Violation first = violations.get(0);
    String fix =
        first.unknownKey() != null
            ? "use one of the valid keys: " + String.join(", ", first.validKeys())
            : "correct the contract file so that it keeps to the ODCS "
                + apiVersion
                + " JSON schema (https://github.com/bitol-io/open-data-contract-standard)";
    return Errors.badInput(message.toString(), fix);
  }

  /** The YAML text of a contract, as {@link #read} accepts it. */
  public static String toYaml(Contract contract) {
    try {
      return WRITER.writeValueAsString(contract);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write contract " + contract.id() + " as YAML", e);
    }
  }

  /** Compiles every object's rules once, so that name clashes are found when the file is read. */
  private static Contract validated(Contract contract) {
    for (ContractObject object : contract.schema()) {
      RuleCompiler.compile(object);
    }
    return contract;
  }
}
