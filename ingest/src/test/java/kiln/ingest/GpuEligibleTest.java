package kiln.ingest;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import kiln.core.testing.SharedSpark;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Ingest's GPU-eligible expressions (its typing in a session with the RAPIDS Accelerator) give,
 * value by value, what its CPU expressions give (try_cast, {@code \s*$}, try_to_timestamp with a
 * pattern, to_json), on text chosen to find where they could differ: signs, whitespace of every
 * kind, line separators, out-of-range fields, five-digit years, control characters.
 */
@ExtendWith(SharedSpark.class)
class GpuEligibleTest {
  private static final String SPACES = " \t\n\u000B\f\r\u0085\u2028\u2029\u00A0\u0000\u001F";

  @Test
  void integralTextIsTypedAsTheRegularExpressionAndTryCastTypedIt(SparkSession spark) {
    Set<String> values = new LinkedHashSet<>();
    for (String number :
        List.of(
            "12",
            "-3",
            "+7",
            "1.5",
            "abc",
            "",
            "1e3",
            "127",
            "128",
            "-129",
            "32768",
            "2147483648",
            "9223372036854775807",
            "9223372036854775808",
            "0x1F",
            "١٢",
            "+-1",
            "--1",
            "12a")) {
      values.add(number);
      for (char c : SPACES.toCharArray()) {
        values.add(c + number);
        values.add(number + c);
        values.add(" " + number + " " + c);
        values.add(c + number + " " + c);
      }
    }
    for (DataType type :
        List.of(
            DataTypes.ByteType, DataTypes.ShortType, DataTypes.IntegerType, DataTypes.LongType)) {
      Column before =
          when(
              col("v").rlike("^\\s*[+-]?[0-9]+\\s*$"),
              expr("try_cast(trim(v) AS " + type.sql() + ")"));
      for (boolean gpu : new boolean[] {false, true}) {
        assertSame(spark, values, before, typed(DataTypes.StringType, type, null, gpu));
      }
    }
  }

  @Test
  void otherTextIsTypedAsTryCastTypedIt(SparkSession spark) {
    Set<String> values = new LinkedHashSet<>();
    for (String text :
        List.of(
            "1.5",
            "-0.0",
            "NaN",
            "Infinity",
            "-inf",
            "1e308",
            "1e309",
            "12345678.901",
            "abc",
            "",
            "true",
            "FALSE",
            "yes",
            "t",
            "0",
            "1",
            "2001-02-03",
            "2001-02-30",
            "2001-02-03 10:00",
            "2001-02-03T10:00:00Z",
            "+12001-01-01",
            "10:00",
            "1.5d",
            "0x10")) {
      values.add(text);
      values.add(" " + text + "\t");
      values.add("\n" + text);
    }
    for (DataType type :
        List.of(
            DataTypes.DoubleType,
            DataTypes.FloatType,
            DataTypes.createDecimalType(10, 2),
            DataTypes.BooleanType,
            DataTypes.DateType,
            DataTypes.TimestampType)) {
      Column before = expr("try_cast(trim(v) AS " + type.sql() + ")");
      for (boolean gpu : new boolean[] {false, true}) {
        assertSame(spark, values, before, typed(DataTypes.StringType, type, null, gpu));
      }
    }
  }

  @Test
  void datesAndTimesInAPatternAreParsedAsTryToTimestampParsedThem(SparkSession spark) {
    for (String format :
        List.of(
            "yyyy/MM/dd HH:mm",
            "dd.MM.yyyy",
            "MM/dd/yyyy HH:mm:ss",
            "yyyy-MM-dd",
            "dd|MM|yyyy HH")) {
      assertThat(GpuEligible.Layout.of(format)).as(format).isPresent();
      Set<String> values = fuzz(validExample(format));
      Column before = expr("try_to_timestamp(v, '" + format + "')");
      for (boolean gpu : new boolean[] {false, true}) {
        assertSame(
            spark,
            values,
            before,
            typed(DataTypes.StringType, DataTypes.TimestampType, format, gpu));
        assertSame(
            spark,
            values,
            before.cast(DataTypes.DateType),
            typed(DataTypes.StringType, DataTypes.DateType, format, gpu));
      }
    }
  }

  @Test
  void patternsWhoseFieldsTouchOrAreNotNumericKeepSparksOwnParse() {
    for (String format :
        List.of(
            "yyyyMMdd",
            "yyyy-MM-dd'T'HH:mm",
            "dd MMM yyyy",
            "yy-MM-dd",
            "yyyy-MM",
            "HH:mm",
            "yyyy-MM-dd mm",
            "yyyy-MM-dd HH:mm:ss.SSS")) {
      assertThat(GpuEligible.Layout.of(format)).as(format).isEmpty();
    }
  }

  @Test
  void rawRecordsAreTheJsonToJsonWrote(SparkSession spark) {
    StringBuilder controls = new StringBuilder();
    for (char c = 0; c < 0x20; c++) {
      controls.append(c);
    }
    List<Row> rows =
        List.of(
            org.apache.spark.sql.RowFactory.create("a", "b\"c", "d\\e"),
            org.apache.spark.sql.RowFactory.create(
                null, controls.toString(), "\u00e9\u2028\u007f/"),
            org.apache.spark.sql.RowFactory.create(null, null, null),
            org.apache.spark.sql.RowFactory.create("", "{\"x\":1}", "\\u0041"));
    Dataset<Row> frame =
        spark.createDataFrame(
            rows,
            new org.apache.spark.sql.types.StructType()
                .add("plain", DataTypes.StringType)
                .add("we\"ird\tname", DataTypes.StringType)
                .add("c", DataTypes.StringType));
    List<String> names = List.of(frame.columns());
    List<Column> fields = names.stream().map(n -> col("`" + n + "`")).toList();
    List<Row> compared =
        frame
            .select(
                to_json(struct(fields.toArray(Column[]::new))).as("before"),
                GpuEligible.json(names, fields).as("after"))
            .collectAsList();
    assertThat(compared).hasSize(4);
    assertThat(compared).allSatisfy(r -> assertThat(r.getString(1)).isEqualTo(r.getString(0)));
  }

  @Test
  void castsThatCannotFailAreTheLegacyCastAndOthersKeepTryCast() {
    assertThat(GpuEligible.cast(col("v"), DataTypes.IntegerType, DataTypes.LongType)).isPresent();
    assertThat(GpuEligible.cast(col("v"), DataTypes.IntegerType, DataTypes.StringType)).isPresent();
    assertThat(GpuEligible.cast(col("v"), DataTypes.LongType, DataTypes.IntegerType)).isEmpty();
    assertThat(GpuEligible.cast(col("v"), DataTypes.DoubleType, DataTypes.LongType)).isEmpty();
  }

  /** IngestJob's typing of column v, on the CPU's path or the GPU's. */
  private static Column typed(DataType from, DataType to, String format, boolean gpu) {
    return IngestJob.typed(col("v"), from, to, format, gpu);
  }

  /** Every value typed both ways; the two must agree on each. */
  private static void assertSame(
      SparkSession spark, Set<String> values, Column before, Column after) {
    Dataset<Row> frame = spark.createDataset(new ArrayList<>(values), Encoders.STRING()).toDF("v");
    List<Row> differ =
        frame
            .select(col("v"), before.as("before"), after.as("after"))
            .where("NOT (before <=> after)")
            .collectAsList();
    assertThat(differ).as("values typed differently").isEmpty();
    assertThat(frame.count()).isEqualTo(values.size());
  }

  /** A value of the pattern: 2000-02-29 23:59:58 in its layout. */
  private static String validExample(String format) {
    return format
        .replace("yyyy", "2000")
        .replace("MM", "02")
        .replace("dd", "29")
        .replace("HH", "23")
        .replace("mm", "59")
        .replace("ss", "58");
  }

  /** The value and its mutations: each character changed, dropped or doubled; signs; ends. */
  private static Set<String> fuzz(String valid) {
    Set<String> values = new LinkedHashSet<>();
    values.add(valid);
    String replacements = "0913+- /:.a\n\u2028";
    for (int i = 0; i < valid.length(); i++) {
      for (char r : replacements.toCharArray()) {
        values.add(valid.substring(0, i) + r + valid.substring(i + 1));
      }
      values.add(valid.substring(0, i) + valid.substring(i + 1));
      values.add(valid.substring(0, i + 1) + valid.charAt(i) + valid.substring(i + 1));
    }
    for (String around : List.of(" ", "\n", "\r\n", "\u2028", "x", "0")) {
      values.add(around + valid);
      values.add(valid + around);
    }
    values.add(valid.replace("2000", "+12000"));
    values.add(valid.replace("2000", "12000"));
    values.add(valid.replace("2000", "+2000"));
    values.add(valid.replace("2000", "-2000"));
    values.add(valid.replace("2000", "0000"));
    values.add(valid.replace("2000", "2001")); // not a leap year: 29 February does not exist
    values.add(valid.replace("02", "13"));
    values.add(valid.replace("23", "24"));
    values.add(valid.replace("59", "60"));
    values.add(valid.replace("29", "00"));
    values.add("");
    return values;
  }
}
