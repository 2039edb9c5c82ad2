package kiln.contracts.internal;

import java.io.Serializable;
import java.util.Locale;

/** An ODCS comparison ({@code mustBe}, {@code mustBeBetween}, ...) as a test on a metric value. */
public record Expectation(Operator operator, double first, double second) implements Serializable {
  private static final long serialVersionUID = 1L;

  public enum Operator {
    MUST_BE("mustBe"),
    MUST_NOT_BE("mustNotBe"),
    MUST_BE_GREATER_THAN("mustBeGreaterThan"),
    MUST_BE_GREATER_OR_EQUAL_TO("mustBeGreaterOrEqualTo"),
    MUST_BE_LESS_THAN("mustBeLessThan"),
    MUST_BE_LESS_OR_EQUAL_TO("mustBeLessOrEqualTo"),
    MUST_BE_BETWEEN("mustBeBetween"),
    MUST_NOT_BE_BETWEEN("mustNotBeBetween");

    private final String key;

    Operator(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  public static Expectation of(Operator operator, double value) {
    return new Expectation(operator, value, Double.NaN);
  }

  public static Expectation between(double low, double high) {
    return new Expectation(Operator.MUST_BE_BETWEEN, low, high);
  }

  public boolean test(double value) {
    return switch (operator) {
      case MUST_BE -> value == first;
      case MUST_NOT_BE -> value != first;
      case MUST_BE_GREATER_THAN -> value > first;
      case MUST_BE_GREATER_OR_EQUAL_TO -> value >= first;
      case MUST_BE_LESS_THAN -> value < first;
      case MUST_BE_LESS_OR_EQUAL_TO -> value <= first;
      case MUST_BE_BETWEEN -> value >= first && value <= second;
      case MUST_NOT_BE_BETWEEN -> value < first || value > second;
    };
  }

  /**
   * The same test on a value transformed before comparing, e.g. a completeness turned into a null
   * percentage.
   */
  public Expectation scaled(double factor) {
    return new Expectation(operator, first * factor, second * factor);
  }

  /** For people: {@code = 0}, {@code between 1 and 5}. */
  public String describe() {
    return switch (operator) {
      case MUST_BE -> "= " + format(first);
      case MUST_NOT_BE -> "!= " + format(first);
      case MUST_BE_GREATER_THAN -> "> " + format(first);
      case MUST_BE_GREATER_OR_EQUAL_TO -> ">= " + format(first);
      case MUST_BE_LESS_THAN -> "< " + format(first);
      case MUST_BE_LESS_OR_EQUAL_TO -> "<= " + format(first);
      case MUST_BE_BETWEEN -> "between " + format(first) + " and " + format(second);
      case MUST_NOT_BE_BETWEEN -> "not between " + format(first) + " and " + format(second);
    };
  }

  public static String format(double value) {
    if (Double.isNaN(value)) {
      return "NaN";
    }
    if (value == Math.rint(value) && Math.abs(value) < 1e15) {
      return String.valueOf((long) value);
    }
    String text = String.format(Locale.ROOT, "%.6g", value);
    if (text.contains(".") && !text.contains("e")) {
      text = text.replaceAll("0+$", "").replaceAll("\\.$", "");
    }
    return text;
  }
}
