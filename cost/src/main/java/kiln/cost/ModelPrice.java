package kiln.cost;

import java.util.Locale;
import kiln.core.Errors;

/**
 * A job's own price for the model it ran (an LLM job's {@code price:}): it replaces the catalog's
 * entry for that model in {@link Pricing#price}, so that a run's tokens are priced once, by one
 * figure.
 */
public sealed interface ModelPrice {
  /** The price's currency; a price in another currency than the catalog's is not added to it. */
  String currency();

  /** What {@code usage} costs at this price. */
  double cost(TokenUsage usage);

  /** For messages and the run's tags: the prices, nothing else. */
  String describe();

  /** Per 1,000 prompt and completion tokens (a served model's bill). */
  record PerThousandTokens(double prompt, double completion, String currency)
      implements ModelPrice {
    public PerThousandTokens {
      price("prompt", prompt);
      price("completion", completion);
      currency = ModelPrice.currencyOrDefault(currency);
    }

    @Override
    public double cost(TokenUsage usage) {
      return usage.promptTokens() / 1000.0 * prompt
          + usage.completionTokens() / 1000.0 * completion;
    }

    @Override
    public String describe() {
      return String.format(
          Locale.ROOT,
          "%s %s per 1k prompt tokens, %s per 1k completion tokens",
          prompt,
          currency,
          completion);
    }
  }

  /**
   * The hardware a model holds, by the hour, for the hours it worked (a local model's GPU or CPU):
   * the tokens cost those hours, whatever their number.
   *
   * @param hours the hours the model worked for the run
   */
  record PerHour(double perHour, double hours, String currency) implements ModelPrice {
    public PerHour {
      price("perHour", perHour);
      price("hours", hours);
      currency = ModelPrice.currencyOrDefault(currency);
    }

    @Override
    public double cost(TokenUsage usage) {
      return perHour * hours;
    }

    @Override
    public String describe() {
      return String.format(Locale.ROOT, "%s %s per hour", perHour, currency);
    }
  }

  private static void price(String key, double value) {
    if (value < 0 || Double.isNaN(value) || Double.isInfinite(value)) {
      throw Errors.badInput(
          "a model price's " + key + " must be 0 or more, got " + value,
          "correct the job's price: block");
    }
  }

  private static String currencyOrDefault(String currency) {
    return currency == null || currency.isBlank() ? "USD" : currency.strip();
  }
}
