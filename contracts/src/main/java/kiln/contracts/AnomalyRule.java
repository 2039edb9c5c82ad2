package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Locale;
import java.util.Set;
import kiln.core.Errors;

/**
 * Kiln's extension to an ODCS quality rule: the rule's metric is compared with its values for
 * earlier versions of the dataset (the metric history) by one of Deequ's anomaly detection
 * strategies.
 *
 * <ul>
 *   <li>{@code relativeRateOfChange}: value / previous value within [maxRateDecrease,
 *       maxRateIncrease], e.g. 0.9 and 1.1 for "at most 10% change";
 *   <li>{@code absoluteChange}: value - previous value within [maxRateDecrease, maxRateIncrease]
 *       (maxRateDecrease is negative);
 *   <li>{@code simpleThresholds}: value within [lowerBound, upperBound];
 *   <li>{@code onlineNormal}: value within lowerDeviationFactor / upperDeviationFactor standard
 *       deviations of the history's running mean.
 * </ul>
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AnomalyRule(
    String strategy,
    Double maxRateDecrease,
    Double maxRateIncrease,
    Double lowerBound,
    Double upperBound,
    Double lowerDeviationFactor,
    Double upperDeviationFactor) {

  public static final Set<String> STRATEGIES =
      Set.of("relativeRateOfChange", "absoluteChange", "simpleThresholds", "onlineNormal");

  public AnomalyRule {
    if (strategy == null || !STRATEGIES.contains(strategy)) {
      throw Errors.badInput(
          "unknown anomaly strategy '"
              + strategy
              + "'; valid: "
              + String.join(", ", new java.util.TreeSet<>(STRATEGIES)),
          "correct the contract file");
    }
    switch (strategy) {
      case "relativeRateOfChange", "absoluteChange" -> {
        if (maxRateDecrease == null && maxRateIncrease == null) {
          throw Errors.badInput(
              "anomaly strategy " + strategy + " needs maxRateDecrease and/or maxRateIncrease",
              "correct the contract file");
        }
        if (maxRateDecrease != null
            && maxRateIncrease != null
            && maxRateDecrease > maxRateIncrease) {
          throw Errors.badInput(
              "maxRateDecrease "
                  + maxRateDecrease
                  + " is above maxRateIncrease "
                  + maxRateIncrease
                  + "; swap them",
              "correct the contract file");
        }
      }
      case "simpleThresholds" -> {
        if (upperBound == null) {
          throw Errors.badInput(
              "anomaly strategy simpleThresholds needs upperBound (and may have lowerBound)",
              "correct the contract file");
        }
        if (lowerBound != null && lowerBound > upperBound) {
          throw Errors.badInput(
              "lowerBound " + lowerBound + " is above upperBound " + upperBound,
              "correct the contract file");
        }
      }
      default -> {
        if (lowerDeviationFactor != null && lowerDeviationFactor < 0
            || upperDeviationFactor != null && upperDeviationFactor < 0) {
          throw Errors.badInput(
              "deviation factors cannot be negative", "correct the contract file");
        }
      }
    }
  }

  public static AnomalyRule relativeRateOfChange(double maxRateDecrease, double maxRateIncrease) {
    return new AnomalyRule(
        "relativeRateOfChange", maxRateDecrease, maxRateIncrease, null, null, null, null);
  }

  /** For people: {@code relativeRateOfChange in [0.9, 1.1] vs the previous version}. */
  public String describe() {
    return switch (strategy) {
      case "simpleThresholds" -> "within [" + bound(lowerBound) + ", " + bound(upperBound) + "]";
      case "onlineNormal" ->
          "within "
              + bound(lowerDeviationFactor == null ? 3.0 : lowerDeviationFactor)
              + "/"
              + bound(upperDeviationFactor == null ? 3.0 : upperDeviationFactor)
              + " std. dev. of the history";
      default ->
          strategy
              + " in ["
              + bound(maxRateDecrease)
              + ", "
              + bound(maxRateIncrease)
              + "] vs the previous version";
    };
  }

  private static String bound(Double value) {
    return value == null
        ? "-inf"
        : String.format(Locale.ROOT, "%s", kiln.contracts.internal.Expectation.format(value));
  }
}
