package kiln.contracts;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import java.io.IOException;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import kiln.core.Errors;

/**
 * ODCS {@code logicalTypeOptions}: the bounds and format a property's values keep to. Kiln checks
 * numeric bounds; the bounds of dates and timestamps (strings in ODCS), and the options of arrays
 * and objects, are accepted and reported as not checked.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record LogicalTypeOptions(
    String pattern,
    @JsonDeserialize(using = NumberOnly.class) Double minimum,
    @JsonDeserialize(using = NumberOnly.class) Double maximum,
    @JsonDeserialize(using = NumberOnly.class) Double exclusiveMinimum,
    @JsonDeserialize(using = NumberOnly.class) Double exclusiveMaximum,
    Integer minLength,
    Integer maxLength,
    String format,
    String timezone,
    String defaultTimezone) {

  public LogicalTypeOptions {
    if (pattern != null) {
      compile(pattern, "pattern");
    }
    if (minimum != null && maximum != null && minimum > maximum) {
      throw Errors.badInput(
          "minimum "
              + num(minimum)
              + " is above maximum "
              + num(maximum)
              + "; swap them or fix one",
          "correct the contract file");
    }
    if (exclusiveMinimum != null
        && exclusiveMaximum != null
        && exclusiveMinimum >= exclusiveMaximum) {
      throw Errors.badInput(
          "exclusiveMinimum "
              + num(exclusiveMinimum)
              + " is not below exclusiveMaximum "
              + num(exclusiveMaximum)
              + "; no value can fit between them",
          "correct the contract file");
    }
    if (minLength != null && minLength < 0) {
      throw Errors.badInput("minLength " + minLength + " is negative", "correct the contract file");
    }
    if (minLength != null && maxLength != null && minLength > maxLength) {
      throw Errors.badInput(
          "minLength " + minLength + " is above maxLength " + maxLength,
          "correct the contract file");
    }
  }

  public static LogicalTypeOptions range(Double minimum, Double maximum) {
    return new LogicalTypeOptions(null, minimum, maximum, null, null, null, null, null, null, null);
  }

  public static LogicalTypeOptions pattern(String pattern) {
    return new LogicalTypeOptions(pattern, null, null, null, null, null, null, null, null, null);
  }

  static Pattern compile(String regex, String what) {
    try {
      return Pattern.compile(regex);
    } catch (PatternSyntaxException e) {
      throw Errors.badInput(
          what
              + " '"
              + regex
              + "' is not a valid regular expression: "
              + e.getDescription()
              + " near index "
              + e.getIndex(),
          "correct the contract file");
    }
  }

  static String num(double value) {
    return value == Math.rint(value) && Math.abs(value) < 1e15
        ? String.valueOf((long) value)
        : String.valueOf(value);
  }

  /**
   * A numeric bound, or nothing for a date's or timestamp's bound (a string such as {@code
   * 2020-01-01}, which the ODCS schema has checked against the property's logical type).
   */
  static final class NumberOnly extends JsonDeserializer<Double> {
    @Override
    public Double deserialize(JsonParser parser, DeserializationContext context)
        throws IOException {
      return parser.currentToken().isNumeric() ? parser.getDoubleValue() : null;
    }
  }
}
