package kiln.drift.internal;

import java.io.Serializable;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.BooleanType;
import org.apache.spark.sql.types.ByteType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DateType;
import org.apache.spark.sql.types.DecimalType;
import org.apache.spark.sql.types.DoubleType;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.IntegerType;
import org.apache.spark.sql.types.LongType;
import org.apache.spark.sql.types.ShortType;
import org.apache.spark.sql.types.StringType;
import org.apache.spark.sql.types.TimestampNTZType;
import org.apache.spark.sql.types.TimestampType;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * How one column of Spark's internal rows feeds its profile. Dates count as days and timestamps as
 * seconds since the epoch.
 */
final class ColumnReader implements Serializable {
  private static final long serialVersionUID = 1L;

  enum Source {
    BYTE,
    SHORT,
    INT,
    LONG,
    FLOAT,
    DOUBLE,
    DECIMAL,
    DATE,
    TIMESTAMP,
    BOOLEAN,
    STRING
  }

  final String name;
  final int ordinal;
  final Source source;
  final boolean categorical;
  private final int precision;
  private final int scale;

  private ColumnReader(
      String name, int ordinal, Source source, boolean categorical, int precision, int scale) {
    this.name = name;
    this.ordinal = ordinal;
    this.source = source;
    this.categorical = categorical;
    this.precision = precision;
    this.scale = scale;
  }

  /** The reader for a column of this type, or null when the type cannot be profiled. */
  static ColumnReader of(String name, int ordinal, DataType type, boolean forceCategorical) {
    Source source = source(type);
    if (source == null) {
      return null;
    }
    boolean categorical = forceCategorical || source == Source.STRING || source == Source.BOOLEAN;
    int precision = type instanceof DecimalType d ? d.precision() : 0;
    int scale = type instanceof DecimalType d ? d.scale() : 0;
    return new ColumnReader(name, ordinal, source, categorical, precision, scale);
  }

  static Source source(DataType type) {
    if (type instanceof ByteType) {
      return Source.BYTE;
    } else if (type instanceof ShortType) {
      return Source.SHORT;
    } else if (type instanceof IntegerType) {
      return Source.INT;
    } else if (type instanceof LongType) {
      return Source.LONG;
    } else if (type instanceof FloatType) {
      return Source.FLOAT;
    } else if (type instanceof DoubleType) {
      return Source.DOUBLE;
    } else if (type instanceof DecimalType) {
      return Source.DECIMAL;
    } else if (type instanceof DateType) {
      return Source.DATE;
    } else if (type instanceof TimestampType || type instanceof TimestampNTZType) {
      return Source.TIMESTAMP;
    } else if (type instanceof BooleanType) {
      return Source.BOOLEAN;
    } else if (type instanceof StringType) {
      return Source.STRING;
    }
    return null;
  }

  ColumnProfile newProfile(int exactLimit, int sketchK) {
    return categorical
        ? new CategoricalProfile(exactLimit)
        : new NumericProfile(exactLimit, sketchK);
  }

  void feed(InternalRow row, ColumnProfile profile) {
    if (row.isNullAt(ordinal)) {
      profile.addNull();
    } else if (categorical) {
      CategoricalProfile categories = (CategoricalProfile) profile;
      switch (source) {
        case STRING -> categories.add(row.getUTF8String(ordinal));
        case BOOLEAN -> categories.add(row.getBoolean(ordinal) ? TRUE : FALSE);
        case BYTE, SHORT, INT, LONG, DATE, TIMESTAMP ->
            categories.add(Long.toString(integral(row)));
        default -> categories.add(number(row) + "");
      }
    } else {
      ((NumericProfile) profile).add(number(row));
    }
  }

  private static final UTF8String TRUE = UTF8String.fromString("true");
  private static final UTF8String FALSE = UTF8String.fromString("false");

  private long integral(InternalRow row) {
    return switch (source) {
      case BYTE -> row.getByte(ordinal);
      case SHORT -> row.getShort(ordinal);
      case INT, DATE -> row.getInt(ordinal);
      default -> row.getLong(ordinal);
    };
  }

  private double number(InternalRow row) {
    return switch (source) {
      case BYTE -> row.getByte(ordinal);
      case SHORT -> row.getShort(ordinal);
      case INT, DATE -> row.getInt(ordinal);
      case LONG -> row.getLong(ordinal);
      case FLOAT -> row.getFloat(ordinal);
      case DOUBLE -> row.getDouble(ordinal);
      case DECIMAL -> row.getDecimal(ordinal, precision, scale).toDouble();
      case TIMESTAMP -> row.getLong(ordinal) / 1e6;
      default -> throw new IllegalStateException("not a number: " + source);
    };
  }
}
