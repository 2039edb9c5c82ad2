package kiln.ingest;

import static org.apache.spark.sql.functions.concat;
import static org.apache.spark.sql.functions.concat_ws;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.regexp_replace;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.catalyst.expressions.Cast;
import org.apache.spark.sql.catalyst.expressions.EvalMode;
import org.apache.spark.sql.types.DataType;
import scala.Option;

/**
 * Ingest's typing and quarantine written with the expressions the RAPIDS Accelerator 25.04 runs on
 * the GPU, each giving exactly what the expression it replaces gives ({@code GpuEligibleTest}
 * compares them value by value): RAPIDS refuses {@code try_cast}, a {@code \s*$} anchor, a datetime
 * pattern other than its few compatible ones, and {@code to_json} (beta, off by default).
 */
final class GpuEligible {
  /** What Java's {@code \s} matches (Spark's regular expressions are Java's). */
  static final String JAVA_WHITESPACE = " \t\n\u000B\f\r";

  /** A datetime pattern RAPIDS parses as Spark does in the CORRECTED policy. */
  static final String ISO_TIMESTAMP = "yyyy-MM-dd HH:mm:ss";

  private GpuEligible() {}

  /**
   * A cast that never throws, as {@code try_cast}, where that is the legacy (non-ANSI) cast: from a
   * string to any type (to an integral type only for integral text, which {@link #integralText}
   * checks first), and a cast that cannot fail (Spark's up-casts). Spark itself evaluates {@code
   * try_cast} from a string to a fractional or datetime type as the legacy cast; from a string to
   * an integral or boolean type both give null for what does not parse, and for integral text out
   * of range. Other casts (a long to an int) differ on overflow: empty, the caller keeps {@code
   * try_cast}.
   */
  static Optional<Column> cast(Column value, DataType from, DataType to) {
    boolean string = from.equals(org.apache.spark.sql.types.DataTypes.StringType);
    if (!string && !Cast.canUpCast(from, to)) {
      return Optional.empty();
    }
    return Optional.of(new Column(new Cast(value.expr(), to, Option.empty(), EvalMode.LEGACY())));
  }

  /**
   * Whether the text is {@code ^\s*[+-]?[0-9]+\s*$}. RAPIDS cannot anchor after {@code \s*}, so the
   * whitespace is trimmed first. They differ only for text ending in a line separator that {@code
   * \s} does not match (U+0085, U+2028, U+2029) after whitespace, which no cast to an integral type
   * accepts: the typed value is null either way.
   */
  static Column integralText(Column value) {
    return org.apache.spark.sql.functions.trim(value, JAVA_WHITESPACE).rlike("^[+-]?[0-9]+$");
  }

  /**
   * {@code try_to_timestamp(value, format)} for a format of numeric fields {@code yyyy}, {@code
   * MM}, {@code dd} and optionally {@code HH}, {@code HH:mm} or {@code HH:mm:ss}, each set off by
   * literal characters that are not letters: the value's fields are moved into {@link
   * #ISO_TIMESTAMP}, which RAPIDS parses on the GPU, and parsed by it. Spark parses both patterns
   * with the same field parsers (a year of four digits, or more after a sign; two digits for the
   * others, checked as a date and time of day), so the result is the same; text that does not have
   * the format's layout is null, as Spark's parse of it. Empty for any other format.
   */
  static Optional<Column> timestamp(Column value, String format) {
    Optional<Layout> layout = Layout.of(format);
    if (layout.isEmpty()) {
      return Optional.empty();
    }
    Layout l = layout.get();
    Column iso = regexp_replace(value, l.regex(), l.replacement());
    return Optional.of(
        when(
            value.rlike(l.regex()),
            org.apache.spark.sql.functions.try_to_timestamp(iso, lit(ISO_TIMESTAMP))));
  }

  /**
   * {@code to_json(struct(fields))} for string fields: a JSON object of the fields that are not
   * null, each escaped as Spark's JSON writer (Jackson) escapes a string: quote and backslash with
   * a backslash; backspace, tab, newline, form feed and carriage return by their short escapes; the
   * other control characters below U+0020 as {@code \\u00XX} (upper-case hex).
   */
  static Column json(List<String> names, List<Column> fields) {
    if (names.size() != fields.size()) {
      throw new IllegalArgumentException("names and fields differ in number");
    }
    List<Column> members = new ArrayList<>();
    for (int i = 0; i < names.size(); i++) {
      Column field = fields.get(i);
      members.add(
          when(
              field.isNotNull(),
              concat(lit(quoted(names.get(i)) + ":\""), escaped(field), lit("\""))));
    }
    return concat(lit("{"), concat_ws(",", members.toArray(Column[]::new)), lit("}"));
  }

  private static Column escaped(Column text) {
    Column escaped = replace(text, "\\", "\\\\");
    escaped = replace(escaped, "\"", "\\\"");
    for (char c = 0; c < 0x20; c++) {
      escaped = replace(escaped, String.valueOf(c), escape(c));
    }
    return escaped;
  }

  /** A literal replacement (Spark's {@code replace}, not a regular expression). */
  private static Column replace(Column text, String search, String replacement) {
    return new Column(
        new org.apache.spark.sql.catalyst.expressions.StringReplace(
            text.expr(), lit(search).expr(), lit(replacement).expr()));
  }

  /** A JSON string literal of {@code text}, escaped as {@link #json} escapes values. */
  static String quoted(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(escape(c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  private static String escape(char c) {
    return switch (c) {
      case '\b' -> "\\b";
      case '\t' -> "\\t";
      case '\n' -> "\\n";
      case '\f' -> "\\f";
      case '\r' -> "\\r";
      default -> String.format("\\u%04X", (int) c);
    };
  }

  /**
   * A datetime format's layout: a regular expression with one group per field, and the replacement
   * that writes the groups as {@link #ISO_TIMESTAMP}.
   */
  record Layout(String regex, String replacement) {
    private static final String FIELDS = "yMdHms";

    static Optional<Layout> of(String format) {
      StringBuilder regex = new StringBuilder("^");
      List<Character> fields = new ArrayList<>();
      boolean lastWasField = false;
      int i = 0;
      while (i < format.length()) {
        char c = format.charAt(i);
        if (Character.isLetter(c)) {
          int run = i;
          while (run < format.length() && format.charAt(run) == c) {
            run++;
          }
          int count = run - i;
          int expected = c == 'y' ? 4 : 2;
          // one of the six fields, once, at its usual width, never right after another field
          // (adjacent fields are parsed by width, not as here)
          if (FIELDS.indexOf(c) < 0 || count != expected || fields.contains(c) || lastWasField) {
            return Optional.empty();
          }
          fields.add(c);
          regex.append(c == 'y' ? "([+-]?[0-9]{4,})" : "([0-9]{2})");
          lastWasField = true;
          i = run;
        } else {
          // quotes, optional sections and Spark's reserved characters are not plain literals
          if ("'[]{}#".indexOf(c) >= 0 || c > 0x7e || c < 0x20) {
            return Optional.empty();
          }
          regex.append(".^$|?*+()\\".indexOf(c) >= 0 ? "\\" + c : String.valueOf(c));
          lastWasField = false;
          i++;
        }
      }
      // a date, then nothing, an hour, an hour and minute, or all three
      boolean minute = fields.contains('m');
      if (!fields.containsAll(List.of('y', 'M', 'd'))
          || (minute && !fields.contains('H'))
          || (fields.contains('s') && !minute)) {
        return Optional.empty();
      }
      regex.append('$');
      StringBuilder replacement = new StringBuilder();
      String iso = "y-M-d H:m:s";
      for (char c : iso.toCharArray()) {
        int group = fields.indexOf(c);
        if (FIELDS.indexOf(c) < 0) {
          replacement.append(c);
        } else if (group >= 0) {
          replacement.append('$').append(group + 1);
        } else {
          replacement.append("00");
        }
      }
      return Optional.of(new Layout(regex.toString(), replacement.toString()));
    }
  }
}
