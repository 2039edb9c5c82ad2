package kiln.ingest;

import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import kiln.core.Errors;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * One column of an ingest schema file.
 *
 * @param name the column's name in the source (and in the table)
 * @param type one of {@link #TYPES} or {@code decimal(P,S)}
 * @param nullable false: a row without a value is quarantined (default true)
 * @param format for date and timestamp columns read from text, the pattern of Spark's datetime
 *     functions, e.g. {@code yyyy/MM/dd HH:mm}
 */
public record ColumnSpec(
    @JsonProperty(value = "name", required = true) String name,
    @JsonProperty(value = "type", required = true) String type,
    @JsonProperty("nullable") Boolean nullable,
    @JsonProperty("format") String format) {

  static final Map<String, DataType> TYPES =
      Map.ofEntries(
          Map.entry("string", DataTypes.StringType),
          Map.entry("boolean", DataTypes.BooleanType),
          Map.entry("byte", DataTypes.ByteType),
          Map.entry("tinyint", DataTypes.ByteType),
          Map.entry("short", DataTypes.ShortType),
          Map.entry("smallint", DataTypes.ShortType),
          Map.entry("int", DataTypes.IntegerType),
          Map.entry("integer", DataTypes.IntegerType),
          Map.entry("long", DataTypes.LongType),
          Map.entry("bigint", DataTypes.LongType),
          Map.entry("float", DataTypes.FloatType),
          Map.entry("double", DataTypes.DoubleType),
          Map.entry("date", DataTypes.DateType),
          Map.entry("timestamp", DataTypes.TimestampType),
          Map.entry("timestamp_ntz", DataTypes.TimestampNTZType));
  private static final Pattern DECIMAL =
      Pattern.compile("decimal\\s*\\(\\s*(\\d+)\\s*,\\s*(\\d+)\\s*\\)");
  static final String VALID_TYPES =
      "boolean, byte, short, int, long, float, double, decimal(P,S), string, date, timestamp, timestamp_ntz";

  public ColumnSpec {
    if (name == null || name.isBlank()) {
      throw Errors.badInput(
          "a column has no name; give each column a 'name'", "correct the schema file (--schema)");
    }
    if (type == null || type.isBlank()) {
      throw Errors.badInput(
          "column '" + name + "' has no type; valid types: " + VALID_TYPES,
          "correct the schema file (--schema)");
    }
    type = type.trim().toLowerCase(Locale.ROOT);
    dataType(name, type); // validates
    if (format != null && !(type.equals("date") || type.startsWith("timestamp"))) {
      throw Errors.badInput(
          "column '"
              + name
              + "' has a format, but formats apply to date and timestamp columns only, not "
              + type,
          "correct the schema file (--schema)");
    }
  }

  public DataType dataType() {
    return dataType(name, type);
  }

  public boolean isNullable() {
    return nullable == null || nullable;
  }

  private static DataType dataType(String name, String type) {
    DataType known = TYPES.get(type);
    if (known != null) {
      return known;
    }
    Matcher decimal = DECIMAL.matcher(type);
    if (decimal.matches()) {
      int precision = Integer.parseInt(decimal.group(1));
      int scale = Integer.parseInt(decimal.group(2));
      if (precision < 1 || precision > 38 || scale > precision) {
        throw Errors.badInput(
            "column '"
                + name
                + "' has type "
                + type
                + ", but a decimal needs 1 <= precision <= 38 and scale <= precision",
            "correct the schema file (--schema)");
      }
      return DataTypes.createDecimalType(precision, scale);
    }
    throw Errors.badInput(
        "unknown type '" + type + "' for column '" + name + "'; valid types: " + VALID_TYPES,
        "correct the schema file (--schema)");
  }
}
