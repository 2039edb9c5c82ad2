package kiln.llm;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.Optional;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.YamlFiles;
import kiln.llm.internal.OutputSchema;

/**
 * One batch LLM job (the YAML of {@code kiln llm run --config}).
 *
 * @param input the input table, {@code TABLE} or {@code TABLE@VERSION} (required); the run pins the
 *     version
 * @param key the input's key column, copied to every output row (required)
 * @param text the text column: redacted, then bound to the prompt's variable (required)
 * @param variable the prompt variable the redacted text fills (default {@code text})
 * @param prompt the registered prompt and its version or alias (required)
 * @param engine the engine and its parameters (required)
 * @param output the Delta table the rows are appended to (required)
 * @param maxErrorRate the share of rows that may fail before the job exits 1 (default 0.01)
 * @param pii what is redacted before the prompt is rendered, and how: a list of entity types, or
 *     {@code {entities, operators, regions}} (default every type, replaced); see {@link PiiConfig}
 * @param deduplicate identical rendered prompts are completed once and the answer shared by their
 *     rows (default true; set false to sample every row at a temperature above 0)
 * @param cache a Delta table of completions shared across runs and jobs (default none): a prompt
 *     whose rendered text, model digest and engine parameters are already in it is answered from
 *     it, without a request, and counted as a cache hit; new answers are added to it
 * @param commitEvery rows per commit to the output (default 10,000): a job killed half-way keeps
 *     the parts it committed, and its re-run completes only the keys not yet in the output
 * @param blockLeaks a completion in which the PII detector finds personal data becomes a row error
 *     instead of being written (default false: the leak is only counted, in {@code completion_pii})
 * @param jsonSchema the JSON schema (draft 2020-12) every completion must keep to (default none):
 *     the local engine decodes under the grammar llama.cpp derives from it, an OpenAI-compatible
 *     endpoint gets it as {@code response_format}, and every completion is validated; one that is
 *     not valid JSON against it is a row error starting {@code invalid_output: }
 * @param price what the model costs (default none: the run's cost is reported as unknown, never 0):
 *     {@code {promptPer1k, completionPer1k}} for {@code openai}, {@code {perHour}} for {@code
 *     local}; see {@link LlmPrice}
 */
public record LlmJobConfig(
    String input,
    String key,
    String text,
    String variable,
    PromptRef prompt,
    EngineConfig engine,
    String output,
    Double maxErrorRate,
    PiiConfig pii,
    Boolean deduplicate,
    String cache,
    Integer commitEvery,
    Boolean blockLeaks,
    JsonNode jsonSchema,
    LlmPrice price) {

  public static final String DEFAULT_VARIABLE = "text";
  public static final double DEFAULT_MAX_ERROR_RATE = 0.01;
  public static final int DEFAULT_COMMIT_EVERY = 10_000;

  public LlmJobConfig {
    required("input", input, "the input table, e.g. input: /data/tickets@3");
    DatasetRef.parse(input);
    required("key", key, "the input's key column, e.g. key: ticket_id");
    required("text", text, "the column the prompt is about, e.g. text: body");
    required(
        "output",
        output,
        "the table the completions are appended to, e.g. output: /data/ticket-triage");
    if (key.equals(text)) {
      throw Errors.badInput(
          "key and text are the same column '" + key + "'",
          "name the key column and the text column");
    }
    if (prompt == null) {
      throw Errors.badInput(
          "prompt is missing",
          "write prompt: {name: NAME, version: N} or prompt: {name: NAME, alias: ALIAS}");
    }
    if (engine == null) {
      throw Errors.badInput(
          "engine is missing", "write engine: {type: openai, ...} or engine: {type: local, ...}");
    }
    variable = variable == null ? DEFAULT_VARIABLE : variable;
    if (!PromptTemplate.NAME.matcher(variable).matches()) {
      throw Errors.badInput(
          "variable '" + variable + "' is not a valid prompt variable name",
          "use letters, digits, '_', '.' and '-'");
    }
    maxErrorRate = maxErrorRate == null ? DEFAULT_MAX_ERROR_RATE : maxErrorRate;
    if (maxErrorRate < 0 || maxErrorRate > 1) {
      throw Errors.badInput(
          "maxErrorRate must be between 0 and 1, got " + maxErrorRate,
          "e.g. maxErrorRate: 0.01 for 1%");
    }
    // an empty list is an explicit choice (text redacted upstream); leaving the key out redacts
    // everything
    pii = pii == null ? PiiConfig.defaults() : pii;
    deduplicate = deduplicate == null || deduplicate;
    if (cache != null && (cache.isBlank() || cache.equals(output))) {
      throw Errors.badInput(
          "cache '"
              + cache
              + "' must be a table of its own, not "
              + (cache.isBlank() ? "empty" : "the output"),
          "e.g. cache: /data/llm-cache, shared by the jobs that may reuse answers");
    }
    commitEvery = commitEvery == null ? DEFAULT_COMMIT_EVERY : commitEvery;
    if (commitEvery < 1) {
      throw Errors.badInput(
          "commitEvery must be at least 1, got " + commitEvery, "e.g. commitEvery: 10000");
    }
    blockLeaks = blockLeaks != null && blockLeaks;
    if (jsonSchema != null) {
      OutputSchema.of(jsonSchema); // refused here, before anything is read or sent
    }
    if (price != null) {
      price.checkFor(engine.type());
    }
  }

  /**
   * A builder: fifteen components are too many to pass by position. A component left unset takes
   * the default the record's constructor gives it (see the record's parameters); input, key, text,
   * prompt, engine and output must be given. {@link #build()} validates as reading the YAML does.
   */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this job's components, to build a job that differs in a few. */
  public Builder toBuilder() {
    return new Builder()
        .input(input)
        .key(key)
        .text(text)
        .variable(variable)
        .prompt(prompt)
        .engine(engine)
        .output(output)
        .maxErrorRate(maxErrorRate)
        .pii(pii)
        .deduplicate(deduplicate)
        .cache(cache)
        .commitEvery(commitEvery)
        .blockLeaks(blockLeaks)
        .jsonSchema(jsonSchema)
        .price(price);
  }

  /** Builds an {@link LlmJobConfig}; null (unset) means the default. */
  public static final class Builder {
    private String input;
    private String key;
    private String text;
    private String variable;
    private PromptRef prompt;
    private EngineConfig engine;
    private String output;
    private Double maxErrorRate;
    private PiiConfig pii;
    private Boolean deduplicate;
    private String cache;
    private Integer commitEvery;
    private Boolean blockLeaks;
    private JsonNode jsonSchema;
    private LlmPrice price;

    private Builder() {}

    /** The input table, {@code TABLE} or {@code TABLE@VERSION} (required). */
    public Builder input(String value) {
      input = value;
      return this;
    }

    /** The input's key column (required). */
    public Builder key(String value) {
      key = value;
      return this;
    }

    /** The text column the prompt is about (required). */
    public Builder text(String value) {
      text = value;
      return this;
    }

    public Builder variable(String value) {
      variable = value;
      return this;
    }

    /** The registered prompt and its version or alias (required). */
    public Builder prompt(PromptRef value) {
      prompt = value;
      return this;
    }

    /** The engine and its parameters (required). */
    public Builder engine(EngineConfig value) {
      engine = value;
      return this;
    }

    /** The Delta table the rows are appended to (required). */
    public Builder output(String value) {
      output = value;
      return this;
    }

    public Builder maxErrorRate(Double value) {
      maxErrorRate = value;
      return this;
    }

    public Builder pii(PiiConfig value) {
      pii = value;
      return this;
    }

    public Builder deduplicate(Boolean value) {
      deduplicate = value;
      return this;
    }

    public Builder cache(String value) {
      cache = value;
      return this;
    }

    public Builder commitEvery(Integer value) {
      commitEvery = value;
      return this;
    }

    public Builder blockLeaks(Boolean value) {
      blockLeaks = value;
      return this;
    }

    public Builder jsonSchema(JsonNode value) {
      jsonSchema = value;
      return this;
    }

    public Builder price(LlmPrice value) {
      price = value;
      return this;
    }

    public LlmJobConfig build() {
      return new LlmJobConfig(
          input,
          key,
          text,
          variable,
          prompt,
          engine,
          output,
          maxErrorRate,
          pii,
          deduplicate,
          cache,
          commitEvery,
          blockLeaks,
          jsonSchema,
          price);
    }
  }

  /** The schema completions must keep to, if the job has one. */
  public Optional<OutputSchema> outputSchema() {
    return jsonSchema == null ? Optional.empty() : Optional.of(OutputSchema.of(jsonSchema));
  }

  public static LlmJobConfig read(Path file) {
    return YamlFiles.read(file, LlmJobConfig.class);
  }

  public DatasetRef inputRef() {
    return DatasetRef.parse(input);
  }

  private static void required(String name, String value, String fix) {
    if (value == null || value.isBlank()) {
      throw Errors.badInput(name + " is missing", "write " + fix);
    }
  }
}
