package kiln.core;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * What a job knows of where the columns of a frame it writes come from when the frame's plan cannot
 * show it: a model's transform (XGBoost builds its result from an RDD) hides that each output
 * column was copied or computed from columns of the frame the model was given. Handed to {@link
 * Datasets#write(Dataset, String, WriteOptions, ColumnSources)}; lineage follows {@code from}'s own
 * plan back to its tables and merges these with what it reads from the written frame's plan.
 *
 * @param from the frame the opaque step was given (its plan leads to the tables it read)
 * @param columns each written column the job knows of, with the columns of {@code from} it comes
 *     from
 */
public record ColumnSources(Dataset<Row> from, Map<String, Derived> columns) {
  public ColumnSources {
    Objects.requireNonNull(from, "from is null");
    Objects.requireNonNull(columns, "columns is null");
    List<String> known = List.of(from.columns());
    columns.forEach(
        (column, derived) -> {
          Objects.requireNonNull(column, "a column name is null");
          Objects.requireNonNull(derived, "the derivation of " + column + " is null");
          List<String> unknown = new ArrayList<>(derived.fromColumns());
          unknown.removeAll(known);
          if (!unknown.isEmpty()) {
            // a programming error in a job, not the user's input
            throw new IllegalStateException(
                column
                    + " is said to come from "
                    + unknown
                    + ", which the frame has not: "
                    + known);
          }
        });
    columns = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(columns));
  }

  /** How a written column reaches the output: copied as it is, or computed from its sources. */
  public enum How {
    IDENTITY,
    TRANSFORMATION
  }

  /** A written column: how it is made from which columns of {@code from}. */
  public record Derived(How how, List<String> fromColumns) {
    public Derived {
      Objects.requireNonNull(how, "how is null");
      fromColumns = List.copyOf(fromColumns);
    }
  }

  /** Nothing known yet of the columns written from {@code from}. */
  public static ColumnSources of(Dataset<Row> from) {
    return new ColumnSources(from, Map.of());
  }

  /** And {@code column} is {@code from}'s column of the same name, copied. */
  public ColumnSources copied(String column) {
    return with(column, new Derived(How.IDENTITY, List.of(column)));
  }

  /** And {@code column} is computed from {@code fromColumns} of {@code from}. */
  public ColumnSources computed(String column, List<String> fromColumns) {
    return with(column, new Derived(How.TRANSFORMATION, fromColumns));
  }

  private ColumnSources with(String column, Derived derived) {
    Map<String, Derived> all = new LinkedHashMap<>(columns);
    all.put(column, derived);
    return new ColumnSources(from, all);
  }
}
