package kiln.cost;

import static java.util.Objects.requireNonNull;

import kiln.core.Errors;

/**
 * Tokens an LLM job sent to and received from one model.
 *
 * @param local the model ran on the job's own hardware (llm's {@code local} engine), which the
 *     catalog prices by {@code localTokens} unless it lists the model
 */
public record TokenUsage(String model, long promptTokens, long completionTokens, boolean local) {
  /** Tokens of a served model (an OpenAI-compatible endpoint). */
  public TokenUsage(String model, long promptTokens, long completionTokens) {
    this(model, promptTokens, completionTokens, false);
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
