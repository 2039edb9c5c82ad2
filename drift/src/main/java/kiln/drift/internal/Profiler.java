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
    Dataset<Row> selected = data.select(quoted(columns));
    ColumnReader[] plan = readers(selected, columns.size(), categorical);
    int limit = exactLimit;
    int k = sketchK;
    FlatMapFunction<Iterator<InternalRow>, TableProfile> fold =
        rows -> {
          ColumnProfile[] profiles = fresh(plan, limit, k);
          long count = 0;
          while (rows.hasNext()) {
            InternalRow row = rows.next();
            count++;
            for (int i = 0; i < plan.length; i++) {
              plan[i].feed(row, profiles[i]);
            }
          }
          return List.of(new TableProfile(count, byName(plan, profiles))).iterator();
        };
    List<TableProfile> partials =
        selected.queryExecution().toRdd().toJavaRDD().mapPartitions(fold).collect();
    TableProfile total = empty(plan);
    for (TableProfile partial : partials) {
      total.merge(partial);
    }
    return total;
  }

  /**
   * One profile per value of the string column {@code key} (e.g. each chunk of a side), all in ONE
   * pass: the key is a grouping key of the same fold, so N chunks cost one scan, not N. Rows with a
   * null key are left out.
   */
  public Map<String, TableProfile> profileBy(
      Dataset<Row> data, String key, List<String> columns, Set<String> categorical) {
    List<String> withKey = new ArrayList<>(columns);
    withKey.add(key);
    Dataset<Row> selected = data.select(quoted(withKey));
    ColumnReader[] plan = readers(selected, columns.size(), categorical);
    int keyIndex = columns.size();
    int limit = exactLimit;
    int k = sketchK;
    FlatMapFunction<Iterator<InternalRow>, Keyed> fold =
        rows -> {
          Map<String, ColumnProfile[]> profiles = new java.util.HashMap<>();
          Map<String, long[]> counts = new java.util.HashMap<>();
          while (rows.hasNext()) {
            InternalRow row = rows.next();
            if (row.isNullAt(keyIndex)) {
              continue;
            }
            String group = row.getUTF8String(keyIndex).toString();
            ColumnProfile[] mine = profiles.computeIfAbsent(group, g -> fresh(plan, limit, k));
            counts.computeIfAbsent(group, g -> new long[1])[0]++;
            for (int i = 0; i < plan.length; i++) {
              plan[i].feed(row, mine[i]);
            }
          }
          List<Keyed> out = new ArrayList<>();
          profiles.forEach(
              (group, mine) ->
                  out.add(
                      new Keyed(
                          group, new TableProfile(counts.get(group)[0], byName(plan, mine)))));
          return out.iterator();
        };
    List<Keyed> partials =
        selected.queryExecution().toRdd().toJavaRDD().mapPartitions(fold).collect();
    Map<String, TableProfile> totals = new java.util.TreeMap<>();
    for (Keyed partial : partials) {
      totals.computeIfAbsent(partial.key(), g -> empty(plan)).merge(partial.profile());
    }
    return totals;
  }

  /** A group's partial profile, as a partition returns it. */
  record Keyed(String key, TableProfile profile) implements java.io.Serializable {}

  private static Column[] quoted(List<String> columns) {
    return columns.stream()
        .map(c -> new Column("`" + c.replace("`", "``") + "`"))
        .toArray(Column[]::new);
  }

  private static ColumnProfile[] fresh(ColumnReader[] plan, int limit, int k) {
    ColumnProfile[] profiles = new ColumnProfile[plan.length];
    for (int i = 0; i < plan.length; i++) {
      profiles[i] = plan[i].newProfile(limit, k);
    }
    return profiles;
  }

  private static Map<String, ColumnProfile> byName(ColumnReader[] plan, ColumnProfile[] profiles) {
    Map<String, ColumnProfile> byName = new LinkedHashMap<>();
    for (int i = 0; i < plan.length; i++) {
      byName.put(plan[i].name, profiles[i]);
    }
    return byName;
  }

  /** Readers of the first {@code count} columns of {@code selected}. */
  private static ColumnReader[] readers(Dataset<Row> selected, int count, Set<String> categorical) {
    List<ColumnReader> readers = new ArrayList<>();
    StructField[] fields = selected.schema().fields();
    for (int i = 0; i < count; i++) {
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
    return readers.toArray(ColumnReader[]::new);
  }

  private TableProfile empty(ColumnReader[] plan) {
    Map<String, ColumnProfile> columns = new LinkedHashMap<>();
    for (ColumnReader reader : plan) {
      columns.put(reader.name, reader.newProfile(exactLimit, sketchK));
    }
    return new TableProfile(0, columns);
  }
}
