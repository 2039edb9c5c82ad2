package kiln.jobs.llmeval;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import kiln.core.DatasetRef;
import kiln.core.Errors;
import kiln.core.YamlFiles;
import kiln.llm.EngineConfig;
import kiln.training.GateResult;

/**
 * The golden set and the criteria of {@code kiln llm prompts gate --config}: the candidate prompt
 * version and the one behind the alias are run over the same golden set, both are evaluated the
 * same way, and the candidate takes the alias only if it regresses on no criterion.
 *
 * @param goldenSet the golden set, {@code TABLE[@VERSION]} (required; pinned)
 * @param key its unique key column (required)
 * @param text the column the prompt's variable is bound to (required)
 * @param variable the prompt variable (default {@code text})
 * @param reference the reference answers' column (default {@code reference}; optional unless a
 *     metric or judge needs it)
 * @param context the contexts' column (default {@code context}; optional)
 * @param engine the model the prompts run on (required)
 * @param candidateEngine a new model behind the candidate (default: {@code engine})
 * @param metrics, jsonSchema, labelField, judges as in {@code kiln llm evaluate}
 * @param criteria the regressions allowed
 * @param alias the alias the candidate takes on a pass (default {@code production})
 */
public record PromptGateConfig(
    String goldenSet,
    String key,
    String text,
    String variable,
    String reference,
    String context,
    EngineConfig engine,
    EngineConfig candidateEngine,
    List<String> metrics,
    String jsonSchema,
    String labelField,
    List<EvalConfig.Judge> judges,
    Criteria criteria,
    String alias) {

  public static final String DEFAULT_ALIAS = "production";

  public PromptGateConfig {
    if (goldenSet == null || goldenSet.isBlank()) {
      throw Errors.badInput("goldenSet is missing", "write goldenSet: /data/golden-set");
    }
    DatasetRef.parse(goldenSet);
    if (key == null || key.isBlank() || text == null || text.isBlank()) {
      throw Errors.badInput(
          "key or text is missing", "write key: the golden set's key column, text: its input");
    }
    if (engine == null) {
      throw Errors.badInput(
          "engine is missing", "write engine: {type: openai, ...} or engine: {type: local, ...}");
    }
    variable = variable == null ? "text" : variable;
    reference = reference == null ? "reference" : reference;
    context = context == null ? "context" : context;
    candidateEngine = candidateEngine == null ? engine : candidateEngine;
    judges = judges == null ? List.of() : List.copyOf(judges);
    criteria = criteria == null ? new Criteria(null, null, null, null, null, null) : criteria;
    alias = alias == null ? DEFAULT_ALIAS : alias;
  }

  public static PromptGateConfig read(Path file) {
    return YamlFiles.read(file, PromptGateConfig.class);
  }

  /**
   * The evaluation of one side's completions joined with the golden set in {@code input}, whose
   * columns carry the evaluation's canonical names (prompt, completion, reference, context).
   */
  public EvalConfig evaluation(String input, String output) {
    return new EvalConfig(
        input,
        key,
        new EvalConfig.Columns(
            Evaluation.PROMPT, Evaluation.COMPLETION, Evaluation.REFERENCE, Evaluation.CONTEXT),
        metrics,
        jsonSchema,
        labelField,
        null,
        null,
        judges,
        output);
  }

  /**
   * The regressions a candidate may show against the champion.
   *
   * @param maxJudgeScoreDrop each judge's mean score at least the champion's minus this (default 0)
   * @param maxSchemaValidityDrop the JSON-valid rate at least the champion's minus this (default 0)
   * @param maxCostIncrease tokens per row (prompt and completion: what a paid endpoint bills) at
   *     most the champion's times 1 + this (default 0.1)
   * @param maxLatencyIncrease mean latency per row at most the champion's times 1 + this (default
   *     0.5: latency is noisy on shared machines)
   * @param maxErrorRateIncrease the engine's failed-row rate at most the champion's plus this
   *     (default 0)
   * @param maxDrop any other aggregate of the evaluation (higher is better, e.g. accuracy,
   *     similarity_to_reference_mean) at least the champion's minus the given drop
   */
  public record Criteria(
      Double maxJudgeScoreDrop,
      Double maxSchemaValidityDrop,
      Double maxCostIncrease,
      Double maxLatencyIncrease,
      Double maxErrorRateIncrease,
      Map<String, Double> maxDrop) {
    public Criteria {
      maxJudgeScoreDrop = maxJudgeScoreDrop == null ? 0.0 : maxJudgeScoreDrop;
      maxSchemaValidityDrop = maxSchemaValidityDrop == null ? 0.0 : maxSchemaValidityDrop;
      maxCostIncrease = maxCostIncrease == null ? 0.1 : maxCostIncrease;
      maxLatencyIncrease = maxLatencyIncrease == null ? 0.5 : maxLatencyIncrease;
      maxErrorRateIncrease = maxErrorRateIncrease == null ? 0.0 : maxErrorRateIncrease;
      maxDrop = maxDrop == null ? Map.of() : Map.copyOf(maxDrop);
      for (double v :
          List.of(
              maxJudgeScoreDrop,
              maxSchemaValidityDrop,
              maxCostIncrease,
              maxLatencyIncrease,
              maxErrorRateIncrease)) {
        if (v < 0) {
          throw Errors.badInput(
              "a gate criterion is negative (" + v + ")", "give allowed regressions of 0 or more");
        }
      }
    }

    /**
     * Each criterion on the two sides' aggregates ({@code judges} names the judges): a metric the
     * champion lacks cannot regress; one the candidate lacks fails.
     */
    public List<GateResult.Criterion> compare(
        Map<String, Double> candidate, Map<String, Double> champion, List<String> judges) {
      List<GateResult.Criterion> out = new ArrayList<>();
      for (String judge : judges) {
        out.add(notBelow(judge + "_mean", candidate, champion, maxJudgeScoreDrop));
      }
      if (champion.containsKey("json_valid_rate") || candidate.containsKey("json_valid_rate")) {
        out.add(notBelow("json_valid_rate", candidate, champion, maxSchemaValidityDrop));
      }
      out.add(notAboveRatio("tokens_per_row", candidate, champion, maxCostIncrease));
      out.add(notAboveRatio("latency_ms_mean", candidate, champion, maxLatencyIncrease));
      out.add(notAbove("error_rate", candidate, champion, maxErrorRateIncrease));
      new LinkedHashMap<>(maxDrop)
          .forEach((metric, drop) -> out.add(notBelow(metric, candidate, champion, drop)));
      return out;
    }

    private static GateResult.Criterion notBelow(
        String metric, Map<String, Double> candidate, Map<String, Double> champion, double drop) {
      Double c = finite(candidate.get(metric));
      Double p = finite(champion.get(metric));
      if (c == null) {
        return new GateResult.Criterion(metric, false, "the candidate has no " + metric);
      }
      if (p == null) {
        return new GateResult.Criterion(
            metric, true, String.format("%.4f (the champion has no %s)", c, metric));
      }
      return new GateResult.Criterion(
          metric,
          c >= p - drop - 1e-12,
          String.format("%.4f vs champion %.4f (may drop %.4f)", c, p, drop));
    }

    private static GateResult.Criterion notAbove(
        String metric, Map<String, Double> candidate, Map<String, Double> champion, double rise) {
      Double c = finite(candidate.get(metric));
      Double p = finite(champion.get(metric));
      if (c == null || p == null) {
        return new GateResult.Criterion(metric, c != null, "not measured on both sides");
      }
      return new GateResult.Criterion(
          metric,
          c <= p + rise + 1e-12,
          String.format("%.4f vs champion %.4f (may rise %.4f)", c, p, rise));
    }

    private static GateResult.Criterion notAboveRatio(
        String metric, Map<String, Double> candidate, Map<String, Double> champion, double rise) {
      Double c = finite(candidate.get(metric));
      Double p = finite(champion.get(metric));
      if (c == null || p == null) {
        return new GateResult.Criterion(metric, c != null, "not measured on both sides");
      }
      return new GateResult.Criterion(
          metric,
          c <= p * (1 + rise) + 1e-9,
          String.format("%.4f vs champion %.4f (may rise %.0f%%)", c, p, rise * 100));
    }

    private static Double finite(Double v) {
      return v == null || !Double.isFinite(v) ? null : v;
    }
  }
}
