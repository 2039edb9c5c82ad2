package kiln.contracts;

import com.fasterxml.jackson.core.JsonProcessingException;
import java.nio.file.Path;
import kiln.contracts.internal.RuleCompiler;
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
   * Reads and validates a contract file: YAML errors with file, line and column; unknown keys,
   * metrics and types named with the valid ones; rules on undeclared columns, bad regular
   * expressions and minimums above maximums refused. Throws {@link kiln.core.BadInputException}
   * (exit 2).
   */
  public static Contract read(Path file) {
    return validated(YamlFiles.read(file, Contract.class));
  }

  public static Contract parse(String yaml, String source) {
    return validated(YamlFiles.parse(yaml, source, Contract.class));
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
    if (contract.schema().isEmpty()) {
      throw Errors.badInput(
          "contract " + contract.id() + " has no schema objects",
          "describe the dataset under schema:");
    }
    return contract;
  }
}
