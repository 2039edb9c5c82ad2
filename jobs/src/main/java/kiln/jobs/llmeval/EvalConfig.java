package kiln.jobs.llmeval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.YamlFiles;
import kiln.llm.EngineConfig;
import kiln.llm.PromptRef;

/**
 * One LLM evaluation (the YAML of {@code kiln llm evaluate --config}): a table of prompts and
 * completions, with optional references and contexts, scored row by row.
 *
 * @param input the table, {@code TABLE[@VERSION]} (required; the run pins the version)
 * @param key a unique key column, copied to every result row (required)
 * @param columns which columns hold the prompt, the completion, the reference and the context
 * @param metrics the metrics to compute (default: every one whose columns are there); naming one
 *     whose column is missing is bad input
 * @param jsonSchema a JSON schema file the completions must follow ({@code json_valid}); without it
 *     {@code json_valid} only checks that a completion is JSON
 * @param labelField for {@code classification}: the completion's JSON field holding the label
 *     (default: the whole trimmed completion is the label); the reference is the true label
 * @param refusalPattern a regular expression a refusal matches (default {@link #DEFAULT_REFUSAL})
 * @param embeddings the sentence-embedding model for the similarities (default Kiln's MiniLM)
 * @param judges LLM judges: each a versioned judge prompt and a second model
 * @param output the Delta table the per-row results are written to (required; overwritten)
 */
public record EvalConfig(
    String input,
    String key,
    Columns columns,
    List<String> metrics,
    String jsonSchema,
    String labelField,
    String refusalPattern,
    String embeddings,
    List<Judge> judges,
    String output) {

  /** Refusal phrases of instruction-tuned models, English. */
  public static final String DEFAULT_REFUSAL =
      "(?i)\\b(I can(no|')t|I cannot|I'm sorry|I am sorry|I(')?m unable|I am unable|As an AI\\b"
          + "|I won't|I will not|I'm not able to|I am not able to)";

  /** Every metric, with the columns each needs. */
  public static final List<String> METRICS =
      List.of(
          "length",
          "refusal",
          "pii_leak",
          "json_valid",
          "exact_match",
          "classification",
          "similarity_to_reference",
          "groundedness",
          "relevance_to_query");

  /**
   * @param prompt the user's input (needed by {@code relevance_to_query}; default {@code prompt})
   * @param completion the model's output (required; default {@code completion})
   * @param reference the expected answer (optional; default {@code reference})
   * @param context retrieved context the answer should rest on (optional; default {@code context})
   */
  public record Columns(String prompt, String completion, String reference, String context) {
    public Columns {
      prompt = prompt == null ? "prompt" : prompt;
      completion = completion == null ? "completion" : completion;
      reference = reference == null ? "reference" : reference;
      context = context == null ? "context" : context;
    }
  }

  /**
   * An LLM judge, named as MLflow 3's scorers are where they match (correctness,
   * relevance_to_query, groundedness, safety, guidelines). Its prompt is a registered prompt
   * version using {@code {{prompt}}}, {@code {{completion}}}, {@code {{reference}}}, {@code
   * {{context}}}; it must use {@code {{completion}}} and answer with a score and a rationale (JSON
   * {@code {"score": 4, "rationale": "..."}} or lines {@code Score: 4} / {@code Rationale: ...}).
   */
  public record Judge(String name, PromptRef prompt, EngineConfig engine) {
    public Judge {
      if (name == null || !name.matches("[a-z][a-z0-9_]*")) {
        throw Errors.badInput(
            "judge name '" + name + "' is not a lower-case identifier",
            "e.g. name: correctness (MLflow 3's scorer names: correctness, relevance_to_query,"
                + " groundedness, safety, guidelines)");
      }
      if (prompt == null) {
        throw Errors.badInput(
            "judge " + name + " has no prompt",
            "write prompt: {name: NAME, version: N} (a prompt registered with `kiln llm prompts"
                + " register`)");
      }
      if (engine == null) {
        throw Errors.badInput(
            "judge " + name + " has no engine",
            "write engine: {type: openai, ...} or engine: {type: local, ...}");
      }
    }
  }

  public EvalConfig {
    if (input == null || input.isBlank()) {
      throw Errors.badInput("input is missing", "write input: /data/golden-set");
    }
    DatasetRef.parse(input);
    if (key == null || key.isBlank()) {
      throw Errors.badInput("key is missing", "write key: the table's unique key column, e.g. id");
    }
    if (output == null || output.isBlank()) {
      throw Errors.badInput("output is missing", "write output: /data/eval-rows");
    }
    if (output.equals(DatasetRef.parse(input).table())) {
      throw Errors.badInput(
          "output " + output + " is the input table", "write the results to a table of their own");
    }
    columns = columns == null ? new Columns(null, null, null, null) : columns;
    if (metrics != null) {
      List<String> unknown = metrics.stream().filter(m -> !METRICS.contains(m)).toList();
      if (!unknown.isEmpty()) {
        throw Errors.badInput(
            "unknown metrics " + Errors.quoted(unknown),
            "use some of " + String.join(", ", METRICS));
      }
      metrics = List.copyOf(new LinkedHashSet<>(metrics));
    }
    refusalPattern = refusalPattern == null ? DEFAULT_REFUSAL : refusalPattern;
    try {
      java.util.regex.Pattern.compile(refusalPattern);
    } catch (java.util.regex.PatternSyntaxException e) {
      throw Errors.badInput(
          "refusalPattern is not a regular expression: " + e.getDescription(),
          "write a Java regular expression, e.g. refusalPattern: '(?i)I cannot'");
    }
    judges = judges == null ? List.of() : List.copyOf(judges);
    Set<String> names = new LinkedHashSet<>();
    for (Judge j : judges) {
      if (!names.add(j.name())) {
        throw Errors.badInput("two judges are named " + j.name(), "give each judge its own name");
      }
    }
  }

  public static EvalConfig read(Path file) {
    return YamlFiles.read(file, EvalConfig.class);
  }

  public DatasetRef inputRef() {
    return DatasetRef.parse(input);
  }

  /** The metrics that need the reference column. */
  static final Set<String> NEED_REFERENCE =
      Set.of("exact_match", "classification", "similarity_to_reference");

  /**
   * The metrics to compute for a table with {@code available} columns: the configured ones (each
   * column they need must be there) or, by default, every one whose columns are there.
   */
  List<String> metricsFor(List<String> available) {
    List<String> out = new ArrayList<>();
    for (String metric : metrics == null ? METRICS : metrics) {
      String needs = needs(metric);
      if (needs == null || available.contains(needs)) {
        out.add(metric);
      } else if (metrics != null) {
        throw Errors.badInput(
            "metric "
                + metric
                + " needs the column '"
                + needs
                + "', which input "
                + input
                + " does not have (it has "
                + String.join(", ", available)
                + ")",
            "add the column (e.g. the reference answers of a golden set), map it under columns,"
                + " or leave "
                + metric
                + " out of metrics");
      }
    }
    return out;
  }

  private String needs(String metric) {
    if (NEED_REFERENCE.contains(metric)) {
      return columns.reference();
    }
    return switch (metric) {
      case "groundedness" -> columns.context();
      case "relevance_to_query" -> columns.prompt();
      default -> null;
    };
  }
}
