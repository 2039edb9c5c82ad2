package kiln.contracts.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import kiln.contracts.ContractObject;
import kiln.contracts.ContractProperty;
import kiln.contracts.SchemaDifference;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Compares a contract's properties with a DataFrame's schema; needs no Spark job. */
public final class SchemaComparison {
  private static final Map<String, String> ALIASES =
      Map.ofEntries(
          Map.entry("long", "bigint"),
          Map.entry("int64", "bigint"),
          Map.entry("integer", "int"),
          Map.entry("int32", "int"),
          Map.entry("short", "smallint"),
          Map.entry("byte", "tinyint"),
          Map.entry("bool", "boolean"),
          Map.entry("str", "string"),
          Map.entry("text", "string"),
          Map.entry("varchar", "string"),
          Map.entry("real", "float"),
          Map.entry("float64", "double"),
          Map.entry("timestamp_ltz", "timestamp"));

  private static final Map<String, Set<String>> LOGICAL =
      Map.of(
          "string", Set.of("string"),
          "integer", Set.of("tinyint", "smallint", "int", "bigint"),
          "number", Set.of("tinyint", "smallint", "int", "bigint", "float", "double", "decimal"),
          "boolean", Set.of("boolean"),
          "date", Set.of("date"),
          "timestamp", Set.of("timestamp", "timestamp_ntz"),
          "time", Set.of("string", "timestamp", "timestamp_ntz"),
          "object", Set.of("struct", "map"),
          "array", Set.of("array"));

  private SchemaComparison() {}

  public static List<SchemaDifference> compare(ContractObject object, StructType schema) {
    List<SchemaDifference> differences = new ArrayList<>();
    for (ContractProperty property : object.properties()) {
      StructField field = find(schema, property.name());
      String declared = declared(property);
      if (field == null) {
        differences.add(
            new SchemaDifference(property.name(), declared == null ? "declared" : declared, null));
        continue;
      }
      String actual = field.dataType().simpleString();
      if (property.physicalType() != null
          && !physicalMatches(property.physicalType(), field.dataType())) {
        differences.add(new SchemaDifference(property.name(), property.physicalType(), actual));
      } else if (property.logicalType() != null
          && !logicalMatches(property.logicalType(), field.dataType())) {
        differences.add(
            new SchemaDifference(property.name(), "logicalType " + property.logicalType(), actual));
      }
    }
    return differences;
  }

  private static String declared(ContractProperty property) {
    return property.physicalType() != null
        ? property.physicalType()
        : property.logicalType() != null ? "logicalType " + property.logicalType() : null;
  }

  private static StructField find(StructType schema, String name) {
    for (StructField field : schema.fields()) {
      if (field.name().equals(name)) {
        return field;
      }
    }
    return null;
  }

  static boolean physicalMatches(String physical, DataType type) {
    String wanted = physical.trim().toLowerCase(Locale.ROOT).replace(" ", "");
    wanted = ALIASES.getOrDefault(wanted, wanted);
    String actual = type.simpleString().toLowerCase(Locale.ROOT).replace(" ", "");
    if (wanted.equals("decimal")) {
      return actual.startsWith("decimal");
    }
    return wanted.equals(actual);
  }

  static boolean logicalMatches(String logical, DataType type) {
    String actual = type.simpleString().toLowerCase(Locale.ROOT);
    int paren = actual.indexOf('(');
    int angle = actual.indexOf('<');
    int cut = paren < 0 ? angle : angle < 0 ? paren : Math.min(paren, angle);
    String family = cut < 0 ? actual : actual.substring(0, cut);
    return LOGICAL.getOrDefault(logical.toLowerCase(Locale.ROOT), Set.of()).contains(family);
  }

  /** The ODCS logical type of a Spark type, for suggested contracts. */
  public static String logicalType(DataType type) {
    String actual = type.simpleString().toLowerCase(Locale.ROOT);
    for (String logical :
        List.of("string", "integer", "number", "boolean", "date", "timestamp", "array", "object")) {
      if (logicalMatches(logical, type)) {
        return logical;
      }
    }
    return actual;
  }
}
