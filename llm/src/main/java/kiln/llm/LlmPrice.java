package kiln.llm;

import java.util.Locale;
import kiln.core.Errors;

/**
 * What the job's model costs, from the job config ({@code price:}): an endpoint's tokens per 1,000
 * ({@code openai}), or the hardware a local model holds per hour ({@code local}: a GPU-hour, or a
 * CPU-hour on a machine without one). It overrides the price catalog's entry for the model where
 * the run is priced (the jobs module); without it the catalog prices the tokens, and a model the
 * catalog lacks makes the token cost unknown, never 0.
 *
 * @param promptPer1k openai: per 1,000 prompt tokens spent
 * @param completionPer1k openai: per 1,000 completion tokens spent
 * @param perHour local: per hour the engine works (its slots' busy time: the requests' latencies
 *     summed and divided by the slots decoding in parallel)
 * @param currency the prices' currency (default USD)
 */
public record LlmPrice(
    Double promptPer1k, Double completionPer1k, Double perHour, String currency) {

  public static final String DEFAULT_CURRENCY = "USD";

  public LlmPrice {
    nonNegative("promptPer1k", promptPer1k);
    nonNegative("completionPer1k", completionPer1k);
    nonNegative("perHour", perHour);
    currency = currency == null || currency.isBlank() ? DEFAULT_CURRENCY : currency.strip();
  }

  /** The prices that apply to {@code type}, all of them given; the other engine's refused. */
  void checkFor(EngineType type) {
    if (type == EngineType.OPENAI) {
      if (perHour != null) {
        throw Errors.badInput(
            "price.perHour does not apply to the openai engine (an endpoint bills tokens)",
            "give price: {promptPer1k: P, completionPer1k: C} per 1,000 tokens");
      }
      if (promptPer1k == null || completionPer1k == null) {
        throw Errors.badInput(
            "price."
                + (promptPer1k == null ? "promptPer1k" : "completionPer1k")
                + " is missing: the openai engine's cost needs both token prices",
            "give price: {promptPer1k: P, completionPer1k: C} per 1,000 tokens (0 if free)");
      }
    } else {
      if (promptPer1k != null || completionPer1k != null) {
        throw Errors.badInput(
            "price."
                + (promptPer1k != null ? "promptPer1k" : "completionPer1k")
                + " does not apply to the local engine (its tokens cost the hardware's time)",
            "give price: {perHour: H}, the hourly price of the GPU (or CPU) the model runs on");
      }
      if (perHour == null) {
        throw Errors.badInput(
            "price.perHour is missing: the local engine is priced by the hour",
            "give price: {perHour: H}, the hourly price of the GPU (or CPU) the model runs on");
      }
    }
  }

  /** For the MLflow params: the prices, never anything else. */
  public String describe() {
    return perHour != null
        ? String.format(Locale.ROOT, "%s %s per hour", perHour, currency)
        : String.format(
            Locale.ROOT,
            "%s %s per 1k prompt tokens, %s per 1k completion tokens",
            promptPer1k,
            currency,
            completionPer1k);
  }

  private static void nonNegative(String key, Double value) {
    if (value != null && (value.isNaN() || value.isInfinite() || value < 0)) {
      throw Errors.badInput(
          "price." + key + " must be a price of 0 or more, got " + value,
          "correct price." + key + " (e.g. 0.15 for 0.15 per unit)");
    }
  }
}
