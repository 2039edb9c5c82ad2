package kiln.core;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A Delta table, optionally pinned to a version or a point in time: {@code
 * TABLE[@VERSION|@TIMESTAMP]}. TABLE is a path or a URI ({@code file:}, {@code s3a:}, {@code
 * hdfs:}, ...). {@link #parse} and {@link #toString} round-trip.
 */
public record DatasetRef(String table, Long version, String timestamp) {
  private static final Pattern VERSION = Pattern.compile("\\d+");
  private static final Pattern SCHEME = Pattern.compile("^[a-zA-Z][a-zA-Z0-9+.-]*:.*");

  public DatasetRef {
    Objects.requireNonNull(table, "table is null");
    if (table.isBlank()) {
      throw Errors.malformedDatasetRef(table, "the table is empty");
    }
    if (version != null && version < 0) {
      throw Errors.malformedDatasetRef(table + "@" + version, "a version cannot be negative");
    }
    if (version != null && timestamp != null) {
      throw Errors.malformedDatasetRef(table, "give a version or a timestamp, not both");
    }
    if (timestamp != null) {
      parseTimestamp(timestamp, ZoneId.of("UTC"), table + "@" + timestamp);
    }
  }

  public static DatasetRef latest(String table) {
    return new DatasetRef(table, null, null);
  }

  public static DatasetRef atVersion(String table, long version) {
    return new DatasetRef(table, version, null);
  }

  public static DatasetRef parse(String text) {
    if (text == null || text.isBlank()) {
      throw Errors.malformedDatasetRef(String.valueOf(text), "it is empty");
    }
    String trimmed = text.trim();
    int at = trimmed.lastIndexOf('@');
    if (at < 0) {
      return latest(trimmed);
    }
    String table = trimmed.substring(0, at);
    String suffix = trimmed.substring(at + 1);
    if (suffix.contains("/")) {
      // the '@' belongs to the path or URI itself (s3a://user@bucket/...)
      return latest(trimmed);
    }
    if (table.isEmpty()) {
      throw Errors.malformedDatasetRef(trimmed, "the table before '@' is empty");
    }
    if (suffix.isEmpty()) {
      throw Errors.malformedDatasetRef(trimmed, "nothing follows '@'");
    }
    if (VERSION.matcher(suffix).matches()) {
      try {
        return atVersion(table, Long.parseLong(suffix));
      } catch (NumberFormatException e) {
        throw Errors.malformedDatasetRef(trimmed, "version " + suffix + " is too large");
      }
    }
    if (Character.isDigit(suffix.charAt(0)) && suffix.contains("-")) {
      return new DatasetRef(table, null, suffix);
    }
    throw Errors.malformedDatasetRef(
        trimmed, "'" + suffix + "' after '@' is neither a version number nor a timestamp");
  }

  public Optional<Long> pinnedVersion() {
    return Optional.ofNullable(version);
  }

  public boolean isLatest() {
    return version == null && timestamp == null;
  }

  public DatasetRef withVersion(long newVersion) {
    return atVersion(table, newVersion);
  }

  /** Whether TABLE is a URI with a scheme rather than a local path. */
  public boolean hasScheme() {
    return SCHEME.matcher(table).matches() && !(table.length() > 1 && table.charAt(1) == ':');
  }

  /**
   * The timestamp as an instant; a time without offset is read in {@code zone} (Spark's session
   * zone).
   */
  public Optional<Instant> instant(ZoneId zone) {
    return timestamp == null
        ? Optional.empty()
        : Optional.of(parseTimestamp(timestamp, zone, toString()));
  }

  static Instant parseTimestamp(String text, ZoneId zone, String whole) {
    String normalized = text.replace(' ', 'T');
    try {
      if (normalized.length() == 10) {
        return LocalDate.parse(normalized).atStartOfDay(zone).toInstant();
      }
      if (normalized.endsWith("Z") || normalized.matches(".*[+-]\\d\\d:\\d\\d$")) {
        return OffsetDateTime.parse(normalized).toInstant();
      }
      return LocalDateTime.parse(normalized).atZone(zone).toInstant();
    } catch (DateTimeParseException e) {
      throw Errors.malformedDatasetRef(
          whole,
          "'"
              + text
              + "' is not a timestamp (use yyyy-MM-dd, yyyy-MM-ddTHH:mm:ss or with an offset such as Z)");
    }
  }

  @Override
  public String toString() {
    if (version != null) {
      return table + "@" + version;
    }
    return timestamp != null ? table + "@" + timestamp : table;
  }
}
