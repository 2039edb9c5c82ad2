package kiln.llm.internal;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import kiln.llm.PiiConfig;
import kiln.llm.PiiEntity;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The completion leak check: every completion passes the detector the prompts passed (same types,
 * regions and checks), and what it finds is counted per type in {@code completion_pii}. A model can
 * only leak what slipped past redaction or what it makes up, and either must be seen. With {@code
 * block}, a completion holding personal data is not written: its row fails with the counts (never
 * the data) as its error. A row's error is written redacted: an endpoint's error text is its own
 * and may echo a key or personal data, so it loses every secret this JVM holds ({@link
 * kiln.core.Secrets}) and passes the prompts' redaction (same types and operators).
 */
public final class LeakScan {
  public static final String COMPLETION_PII = "completion_pii";

  private LeakScan() {}

  public static Dataset<Row> scan(
      Dataset<Row> rows, String completionCol, String errorCol, PiiConfig pii, boolean block) {
    StructType in = rows.schema();
    StructType out =
        in.add(
            COMPLETION_PII,
            DataTypes.createMapType(DataTypes.StringType, DataTypes.IntegerType, false),
            false);
    int completion = in.fieldIndex(completionCol);
    int error = in.fieldIndex(errorCol);
    MapPartitionsFunction<Row, Row> check =
        input -> {
          // on the executor: the hash operators' salts come from its environment
          Anonymizer operators = Anonymizer.of(pii, System.getenv());
          return new Iterator<>() {
            @Override
            public boolean hasNext() {
              return input.hasNext();
            }

            @Override
            public Row next() {
              return scanRow(input.next(), completion, error, pii, block, operators);
            }
          };
        };
    return rows.mapPartitions(check, Encoders.row(out));
  }

  /** Counts per type of the personal data in {@code text} (empty when there is none). */
  public static Map<String, Integer> find(String text, PiiConfig pii) {
    Map<PiiEntity, Integer> counts = PiiRules.noCounts();
    for (PiiRules.Span s : PiiRules.resolve(PiiRules.findAll(text, pii))) {
      counts.merge(s.entity(), 1, Integer::sum);
    }
    Map<String, Integer> byName = new LinkedHashMap<>();
    counts.forEach((e, n) -> byName.put(e.name(), n));
    return byName;
  }

  /**
   * An error text as it may be stored: no remembered secret, no URI password, personal data
   * replaced as the job's operators say (null stays null).
   */
  public static String redactError(String text, PiiConfig pii, Anonymizer operators) {
    if (text == null) {
      return null;
    }
    return PiiRules.redact(kiln.core.Secrets.redact(text), pii, PiiRules.noCounts(), operators);
  }

  private static Row scanRow(
      Row row, int completion, int error, PiiConfig pii, boolean block, Anonymizer operators) {
    Object[] values = new Object[row.length() + 1];
    for (int i = 0; i < row.length(); i++) {
      values[i] = row.get(i);
    }
    if (!row.isNullAt(error)) {
      values[error] = redactError(row.getString(error), pii, operators);
    }
    Map<String, Integer> found =
        row.isNullAt(completion) ? Map.of() : find(row.getString(completion), pii);
    if (block && !found.isEmpty()) {
      values[completion] = null;
      values[error] = "the completion holds personal data " + found + "; it was not written";
    }
    values[row.length()] = scala.collection.JavaConverters.mapAsScalaMap(found);
    return RowFactory.create(values);
  }
}
