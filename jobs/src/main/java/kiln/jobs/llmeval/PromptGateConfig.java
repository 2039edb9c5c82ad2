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
import kiln.llm.LlmPrice;
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
 * @param price what {@code engine}'s model costs, as {@code kiln llm run}'s {@code price:} (per 1k
 *     prompt and completion tokens for {@code openai}, per hour for {@code local}); it replaces the
 *     price catalog's entry for the model (default: the catalog prices it)
 * @param candidatePrice what {@code candidateEngine}'s model costs (default: {@code price} when the
 *     candidate runs on the same model, else the catalog prices the new model)
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
    LlmPrice price,
    LlmPrice candidatePrice,
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
    // the same model costs the same: a new model behind the candidate is priced on its own
    if (candidatePrice == null
        && (candidateEngine == null
            || java.util.Objects.equals(candidateEngine.model(), engine.model()))) {
      candidatePrice = price;
    }
    candidateEngine = candidateEngine == null ? engine : candidateEngine;
    judges = judges == null ? List.of() : List.copyOf(judges);
    criteria = criteria == null ? new Criteria(null, null, null, null, null, null, null) : criteria;
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

  /** The engine's and the judges' tokens per row (prompt and completion). */
  public static final String TOKENS_PER_ROW = "tokens_per_row";

  /** What those tokens cost per row, priced (absent when a price is unknown). */
  public static final String COST_PER_ROW = "cost_per_row";

  /**
   * One side of the gate as the criteria compare it.
   *
   * @param metrics its aggregates: the evaluation's, {@value #TOKENS_PER_ROW}, {@value
   *     #COST_PER_ROW} (absent when unknown), latency_ms_mean, error_rate
   * @param currency the currency of its cost per row (the price catalog's)
   * @param costUnknown why its cost per row is unknown (empty when priced)
   */
  public record Side(Map<String, Double> metrics, String currency, List<String> costUnknown) {
    public Side {
      metrics = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
      java.util.Objects.requireNonNull(currency, "currency is null");
      costUnknown = List.copyOf(costUnknown);
    }
  }

  /**
   * The regressions a candidate may show against the champion.
   *
   * @param maxJudgeScoreDrop each judge's mean score at least the champion's minus this (default 0)
   * @param maxSchemaValidityDrop the JSON-valid rate at least the champion's minus this (default 0)
   * @param maxCostIncrease cost per row (the engine's and the judges' tokens, priced as {@code kiln
   *     llm run} and {@code kiln llm evaluate} price them: the gate's {@code price:} and {@code
   *     candidatePrice:}, else the price catalog) at most the champion's times 1 + this (default
   *     0.1). A side whose cost is unknown (a model with no price) fails this criterion, unless
   *     {@code maxTokensIncrease} is given: then tokens per row stand in for it
   * @param maxTokensIncrease tokens per row (the engine's and the judges', prompt and completion)
   *     at most the champion's times 1 + this (default: not a criterion). Given, it is checked on
   *     its own and is the only cost check when a price is unknown: tokens are not cost (a new
   *     model behind the prompt reads the same tokens at another price), so the fallback is the
   *     user's choice, never the gate's
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
      Map<String, Double> maxDrop,
      Double maxTokensIncrease) {
    public Criteria {
      maxJudgeScoreDrop = maxJudgeScoreDrop == null ? 0.0 : maxJudgeScoreDrop;
      maxSchemaValidityDrop = maxSchemaValidityDrop == null ? 0.0 : maxSchemaValidityDrop;
      maxCostIncrease = maxCostIncrease == null ? 0.1 : maxCostIncrease;
      maxLatencyIncrease = maxLatencyIncrease == null ? 0.5 : maxLatencyIncrease;
      maxErrorRateIncrease = maxErrorRateIncrease == null ? 0.0 : maxErrorRateIncrease;
      maxDrop = maxDrop == null ? Map.of() : Map.copyOf(maxDrop);
      if (maxTokensIncrease != null && !(maxTokensIncrease >= 0)) {
        throw Errors.badInput(
            "criteria.maxTokensIncrease is " + maxTokensIncrease,
            "give an allowed rise of 0 or more (0.1: tokens per row may rise 10%)");
      }
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
     * Each criterion on the two sides ({@code judges} names the judges): a metric the champion
     * lacks cannot regress; one the candidate lacks fails.
     */
    public List<GateResult.Criterion> compare(
        Side candidateSide, Side championSide, List<String> judges) {
      Map<String, Double> candidate = candidateSide.metrics();
      Map<String, Double> champion = championSide.metrics();
      List<GateResult.Criterion> out = new ArrayList<>();
      for (String judge : judges) {
        out.add(notBelow(judge + "_mean", candidate, champion, maxJudgeScoreDrop));
      }
      if (champion.containsKey("json_valid_rate") || candidate.containsKey("json_valid_rate")) {
        out.add(notBelow("json_valid_rate", candidate, champion, maxSchemaValidityDrop));
      }
      out.add(costPerRow(candidateSide, championSide));
      if (maxTokensIncrease != null) {
        out.add(notAboveRatio(TOKENS_PER_ROW, candidate, champion, maxTokensIncrease));
      }
      out.add(notAboveRatio("latency_ms_mean", candidate, champion, maxLatencyIncrease));
      out.add(notAbove("error_rate", candidate, champion, maxErrorRateIncrease));
      new LinkedHashMap<>(maxDrop)
          .forEach((metric, drop) -> out.add(notBelow(metric, candidate, champion, drop)));
      return out;
    }

    /**
     * The priced cost per row, in the sides' currency; unknown on either side: a fail, unless
     * {@code maxTokensIncrease} lets tokens per row stand in (its own criterion then decides).
     */
    private GateResult.Criterion costPerRow(Side candidate, Side champion) {
      Double c = finite(candidate.metrics().get(COST_PER_ROW));
      Double p = finite(champion.metrics().get(COST_PER_ROW));
      if (c != null && p != null) {
        if (!candidate.currency().equals(champion.currency())) {
          return new GateResult.Criterion(
              COST_PER_ROW,
              false,
              "the candidate's cost is in "
                  + candidate.currency()
                  + ", the champion's in "
                  + champion.currency()
                  + ": not comparable");
        }
        return new GateResult.Criterion(
            COST_PER_ROW,
            c <= p * (1 + maxCostIncrease) + 1e-15,
            String.format(
                java.util.Locale.ROOT,
                "%.8f vs champion %.8f %s per row (engine and judge tokens, priced; may rise %.0f%%)",
                c,
                p,
                candidate.currency(),
                maxCostIncrease * 100));
      }
      List<String> why = new ArrayList<>();
      if (c == null) {
        why.add("the candidate's: " + unknown(candidate));
      }
      if (p == null) {
        why.add("the champion's: " + unknown(champion));
      }
      String unknown = "cost per row unknown (" + String.join("; ", why) + ")";
      if (maxTokensIncrease == null) {
        return new GateResult.Criterion(
            COST_PER_ROW,
            false,
            unknown
                + ": not compared. Fix: price the model (price: or candidatePrice: in the gate"
                + " config, or the price catalog's tokens:), or let tokens per row stand in with"
                + " criteria.maxTokensIncrease");
      }
      return new GateResult.Criterion(
          COST_PER_ROW,
          true,
          unknown
              + ": not compared; tokens_per_row stands in (criteria.maxTokensIncrease "
              + maxTokensIncrease
              + ")");
    }

    private static String unknown(Side side) {
      return side.costUnknown().isEmpty() ? "not measured" : String.join("; ", side.costUnknown());
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
