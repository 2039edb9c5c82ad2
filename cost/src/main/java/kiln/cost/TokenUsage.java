package kiln.cost;

import static java.util.Objects.requireNonNull;

import kiln.core.Errors;

/**
 * Tokens an LLM job sent to and received from one model.
 *
 * @param local the model ran on the job's own hardware (llm's {@code local} engine), which the
 *     catalog prices by {@code localTokens} unless it lists the model
 * @param price the job's own price for the model, which replaces the catalog's (null: the catalog
 *     prices it)
 */
public record TokenUsage(
    String model, long promptTokens, long completionTokens, boolean local, ModelPrice price) {
  /** Tokens of a served model (an OpenAI-compatible endpoint), priced by the catalog. */
  public TokenUsage(String model, long promptTokens, long completionTokens) {
    this(model, promptTokens, completionTokens, false, null);
  }

  /** Tokens priced by the catalog. */
  public TokenUsage(String model, long promptTokens, long completionTokens, boolean local) {
    this(model, promptTokens, completionTokens, local, null);
  }

  public TokenUsage {
    requireNonNull(model, "model is null");
    if (promptTokens < 0 || completionTokens < 0) {
      throw Errors.badInput(
          "negative token counts for "
              + model
              + ": "
              + promptTokens
              + " prompt, "
              + completionTokens
              + " completion",
          "token counts are >= 0");
    }
  }
}
