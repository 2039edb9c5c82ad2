package kiln.cost;

import static java.util.Objects.requireNonNull;

import kiln.core.Errors;

/** Tokens an LLM job sent to and received from one model. */
public record TokenUsage(String model, long promptTokens, long completionTokens) {
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
