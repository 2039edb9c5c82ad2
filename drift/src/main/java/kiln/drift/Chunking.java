package kiln.drift;

import java.util.Locale;
import java.util.Objects;
import kiln.core.Errors;

/**
 * How a side is cut into chunks (NannyML's chunkers): by period of the time column ({@code day},
 * {@code week}, {@code month}), by size ({@code ROWS}: that many rows per chunk, in the time
 * column's order when there is one) or by count ({@code count:N}: N chunks of nearly equal size).
 *
 * @param kind which chunker
 * @param value rows per chunk (SIZE) or chunks (COUNT); 0 for PERIOD
 * @param period {@code day}, {@code week} or {@code month} for PERIOD, else null
 */
public record Chunking(Kind kind, int value, String period) {
  /**
   * The fewest rows a chunk may have: below it a chunk's statistics are noise (the reconstruction
   * error's band and CBPE's estimates among them).
   */
  public static final int MIN_CHUNK_ROWS = 50;

  /** The chunks the reference is cut into when no chunking is given (NannyML's default). */
  public static final int DEFAULT_REFERENCE_CHUNKS = 10;

  public enum Kind {
    PERIOD,
    SIZE,
    COUNT
  }

  public Chunking {
    Objects.requireNonNull(kind, "kind is null");
    if (kind == Kind.PERIOD) {
      if (!"day".equals(period) && !"week".equals(period) && !"month".equals(period)) {
        throw Errors.badInput(
            "chunk period must be day, week or month, got '" + period + "'",
            "pass --chunk day|week|month|ROWS|count:N");
      }
    } else if (kind == Kind.SIZE && value < MIN_CHUNK_ROWS) {
      throw Errors.badInput(
          "chunks of "
              + value
              + " rows are below the minimum chunk size of "
              + MIN_CHUNK_ROWS
              + " rows",
          "pass --chunk " + MIN_CHUNK_ROWS + " or more rows");
    } else if (kind == Kind.COUNT && value < 1) {
      throw Errors.badInput(
          "the chunk count must be at least 1, got " + value, "pass --chunk count:N with N >= 1");
    }
  }

  public static Chunking count(int chunks) {
    return new Chunking(Kind.COUNT, chunks, null);
  }

  public static Chunking size(int rows) {
    return new Chunking(Kind.SIZE, rows, null);
  }

  public static Chunking period(String period) {
    return new Chunking(Kind.PERIOD, 0, period);
  }

  /** Parses {@code day|week|month|ROWS|count:N}. */
  public static Chunking parse(String text) {
    Objects.requireNonNull(text, "text is null");
    String t = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (t.startsWith("count:")) {
        return count(Integer.parseInt(t.substring("count:".length()).trim()));
      }
      if (!t.isEmpty() && t.chars().allMatch(Character::isDigit)) {
        return size(Integer.parseInt(t));
      }
    } catch (NumberFormatException e) {
      throw Errors.badInput(
          "'" + text + "' is not a chunking: the number is not an integer",
          "pass --chunk day|week|month|ROWS|count:N",
          e);
    }
    if (t.equals("day") || t.equals("week") || t.equals("month")) {
      return period(t);
    }
    throw Errors.badInput(
        "'" + text + "' is not a chunking", "pass --chunk day|week|month|ROWS|count:N");
  }

  @Override
  public String toString() {
    return switch (kind) {
      case PERIOD -> period;
      case SIZE -> value + " rows";
      case COUNT -> value + " chunks";
    };
  }
}
