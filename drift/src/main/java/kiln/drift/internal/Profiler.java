package kiln.drift.internal;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import kiln.core.Errors;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructField;

/**
 * Profiles every column of a DataFrame in ONE pass: each partition folds its rows into one {@link
 * TableProfile} (Spark's internal rows, no conversion to Row objects), and the partition profiles
 * are merged. The cost does not depend on how many statistics are computed from the profiles later.
 */
public final class Profiler {
  private final int exactLimit;
  private final int sketchK;

  public Profiler(int exactLimit, int sketchK) {
    this.exactLimit = exactLimit;
    this.sketchK = sketchK;
  }

  /**
   * Profiles {@code columns} of {@code data}; names in {@code categorical} are profiled as
   * categories whatever their type. Columns of types that cannot be profiled must be left out by
   * the caller.
   */
  public TableProfile profile(Dataset<Row> data, List<String> columns, Set<String> categorical) {
    Dataset<Row> selected =
        data.select(
            columns.stream()
                .map(c -> new Column("`" + c.replace("`", "``") + "`"))
                .toArray(Column[]::new));
    List<ColumnReader> readers = new ArrayList<>();
    StructField[] fields = selected.schema().fields();
    for (int i = 0; i < fields.length; i++) {
      ColumnReader reader =
          ColumnReader.of(
              fields[i].name(), i, fields[i].dataType(), categorical.contains(fields[i].name()));
      if (reader == null) {
        throw Errors.badInput(
            "column "
                + fields[i].name()
                + " of type "
                + fields[i].dataType().simpleString()
                + " cannot be profiled",
            "leave the column out of features, or list it under exclude in the drift config");
      }
      readers.add(reader);
    }
    ColumnReader[] plan = readers.toArray(ColumnReader[]::new);
    int limit = exactLimit;
    int k = sketchK;
    FlatMapFunction<Iterator<InternalRow>, TableProfile> fold =
        rows -> {
          ColumnProfile[] profiles = new ColumnProfile[plan.length];
          for (int i = 0; i < plan.length; i++) {
            profiles[i] = plan[i].newProfile(limit, k);
          }
          long count = 0;
          while (rows.hasNext()) {
            InternalRow row = rows.next();
            count++;
            for (int i = 0; i < plan.length; i++) {
              plan[i].feed(row, profiles[i]);
            }
          }
          Map<String, ColumnProfile> byName = new LinkedHashMap<>();
          for (int i = 0; i < plan.length; i++) {
            byName.put(plan[i].name, profiles[i]);
          }
          return List.of(new TableProfile(count, byName)).iterator();
        };
    List<TableProfile> partials =
        selected.queryExecution().toRdd().toJavaRDD().mapPartitions(fold).collect();
    TableProfile total = empty(plan);
    for (TableProfile partial : partials) {
      total.merge(partial);
    }
    return total;
  }

  private TableProfile empty(ColumnReader[] plan) {
    Map<String, ColumnProfile> columns = new LinkedHashMap<>();
    for (ColumnReader reader : plan) {
      columns.put(reader.name, reader.newProfile(exactLimit, sketchK));
    }
    return new TableProfile(0, columns);
  }
}
