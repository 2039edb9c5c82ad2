package kiln.llm.internal;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import java.io.Serializable;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import kiln.core.Errors;

/**
 * A job's JSON schema for its completions: every completion is parsed and validated against it
 * (networknt json-schema-validator, draft 2020-12 unless the schema names its own {@code $schema}),
 * and one that fails is its row's error, prefixed {@link #INVALID}. The reasons name where and what
 * (JSON pointer and rule), never the completion's text, so that a blocked leak cannot come back
 * through the error column.
 */
public final class OutputSchema implements Serializable {
  private static final long serialVersionUID = 1L;

  /** The prefix of a row error for a completion that is not valid against the schema. */
  public static final String INVALID = "invalid_output: ";

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
  private static final String META = "https://json-schema.org/draft/2020-12/schema";

  private final String text;
  private transient Schema schema;

  private OutputSchema(String text) {
    this.text = requireNonNull(text, "text is null");
  }

  /**
   * The schema of a job config; a schema that is not a JSON object, or one the 2020-12 meta-schema
   * refuses, is bad input.
   */
  public static OutputSchema of(JsonNode schema) {
    if (schema == null || !schema.isObject() || schema.isEmpty()) {
      throw Errors.badInput(
          "jsonSchema must be a JSON schema object, got "
              + (schema == null ? "nothing" : schema.getNodeType().toString().toLowerCase()),
          "write e.g. jsonSchema: {type: object, properties: {label: {enum: [spam, ham]}},"
              + " required: [label]}");
    }
    List<Error> errors =
        SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
            .getSchema(SchemaLocation.of(META))
            .validate(schema);
    if (!errors.isEmpty()) {
      throw Errors.badInput(
          "jsonSchema is not a valid JSON schema: " + describe(errors),
          "correct jsonSchema (JSON Schema draft 2020-12)");
    }
    OutputSchema parsed = new OutputSchema(schema.toString());
    parsed.schema(); // the validator accepts it too
    return parsed;
  }

  /** Reads back a schema saved as its JSON text (the LLM stage's param); empty text is none. */
  public static Optional<OutputSchema> fromText(String text) {
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(new OutputSchema(text));
  }

  /** The schema as compact JSON text. */
  public String text() {
    return text;
  }

  /** Why the completion is not valid (without its text); empty when it is valid. */
  public Optional<String> check(String completion) {
    JsonNode value;
    try {
      value = JSON.readTree(completion);
    } catch (JsonProcessingException e) {
      long at = e.getLocation() == null ? -1 : e.getLocation().getCharOffset();
      return Optional.of(
          "not JSON"
              + (at >= 0 ? " (at character " + at + " of " + completion.length() + ")" : ""));
    }
    if (value == null || value.isMissingNode()) {
      return Optional.of("not JSON (empty)");
    }
    List<Error> errors = schema().validate(value);
    return errors.isEmpty() ? Optional.empty() : Optional.of(describe(errors));
  }

  private Schema schema() {
    if (schema == null) {
      try {
        schema =
            SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
                .getSchema(JSON.readTree(text));
      } catch (JsonProcessingException e) {
        throw new IllegalStateException("the saved JSON schema is not JSON", e);
      }
    }
    return schema;
  }

  /** Where in the completion, as a JSON pointer; the root ({@code ""}) as {@code /}. */
  private static String pointer(Error error) {
    String at = error.getInstanceLocation() == null ? "" : error.getInstanceLocation().toString();
    return at.isEmpty() ? "/" : at;
  }

  /**
   * At most three errors, each as {@code pointer: message} (networknt's message names the rule).
   */
  private static String describe(List<Error> errors) {
    String head =
        errors.stream()
            .limit(3)
            .map(e -> pointer(e) + ": " + e.getMessage())
            .collect(Collectors.joining("; "));
    return errors.size() > 3 ? head + "; and " + (errors.size() - 3) + " more" : head;
  }
}
