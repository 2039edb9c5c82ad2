package kiln.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/**
 * One PII redaction job (the YAML of {@code kiln pii redact --config}): a table's text columns
 * redacted into an output table.
 *
 * @param input the input table, {@code TABLE}, {@code TABLE@VERSION} or {@code TABLE@TIMESTAMP}
 *     (required); the run pins the version
 * @param columns the string columns redacted (required, at least one); the other columns are copied
 *     as they are
 * @param output the Delta table the redacted rows are appended to (required; not the input)
 * @param pii what is redacted and how (default every type, replaced); see {@link PiiConfig}
 */
public record PiiJobConfig(String input, List<String> columns, String output, PiiConfig pii) {

  public PiiJobConfig {
    if (input == null || input.isBlank()) {
      throw Errors.badInput("input is missing", "write input: /data/emails@3 (or --input)");
    }
    DatasetRef.parse(input);
    if (columns == null
        || columns.isEmpty()
        || columns.stream().anyMatch(c -> c == null || c.isBlank())) {
      throw Errors.badInput(
          "columns is missing or has an empty name",
          "write columns: [subject, body] (or --columns subject,body)");
    }
    columns = columns.stream().map(String::trim).distinct().toList();
    if (output == null || output.isBlank()) {
      throw Errors.badInput(
          "output is missing", "write output: /data/emails-redacted (or --output)");
    }
    if (DatasetRef.parse(input).table().equals(output)) {
      throw Errors.badInput(
          "output " + output + " is the input table",
          "write the redacted rows to another table; the input stays as it is");
    }
    pii = pii == null ? PiiConfig.defaults() : pii;
  }

  public DatasetRef inputRef() {
    return DatasetRef.parse(input);
  }

  public static PiiJobConfig read(Path file) {
    return YamlFiles.read(file, PiiJobConfig.class);
  }

  /**
   * The job from a YAML file (null: none) and command-line options (null: not given), the options
   * winning over the file's keys.
   */
  public static PiiJobConfig of(Path file, String input, List<String> columns, String output) {
    if (input == null && columns == null && output == null) {
      if (file == null) {
        throw Errors.badInput(
            "no job given", "pass --config FILE, or --input, --columns and --output");
      }
      return read(file);
    }
    ObjectNode node;
    try {
      node =
          file == null
              ? YamlFiles.mapper().createObjectNode()
              : (ObjectNode) YamlFiles.mapper().readTree(Files.readString(file));
    } catch (IOException | ClassCastException e) {
      // the file's own errors, with line and column
      read(file);
      throw Errors.badInput("cannot read " + file, "check the file");
    }
    if (input != null) {
      node.put("input", input);
    }
    if (columns != null) {
      node.putPOJO("columns", columns);
    }
    if (output != null) {
      node.put("output", output);
    }
    try {
      return YamlFiles.parse(
          YamlFiles.mapper().writeValueAsString(node),
          (file == null ? "" : file + " ") + "with the command-line options",
          PiiJobConfig.class);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
