package kiln.drift;

import java.time.LocalDate;
import java.time.YearMonth;
import java.util.Objects;
import kiln.core.DatasetRef;
import kiln.core.Errors;

/**
 * One side of a comparison: a Delta table at a version, optionally narrowed by a Spark SQL
 * condition (e.g. one month of a table), with a label for reports.
 */
public record DriftInput(DatasetRef dataset, String where, String label) {
  public DriftInput {
    Objects.requireNonNull(dataset, "dataset is null");
    if (where != null && where.isBlank()) {
      where = null;
    }
    if (label == null || label.isBlank()) {
      label = dataset + (where == null ? "" : " where " + where);
    }
  }

  public static DriftInput of(DatasetRef dataset) {
    return new DriftInput(dataset, null, null);
  }

  /**
   * The rows of {@code table} whose {@code timeColumn} falls in {@code month}, labelled like {@code
   * 2001-04}: a side for month-against-month comparisons.
   */
  public static DriftInput month(DatasetRef table, String timeColumn, YearMonth month) {
    return between(
        table, timeColumn, month.atDay(1), month.plusMonths(1).atDay(1), month.toString());
  }

  /** The rows of {@code table} with {@code from <= timeColumn < until}, with a label. */
  public static DriftInput between(
      DatasetRef table, String timeColumn, LocalDate from, LocalDate until, String label) {
    if (!from.isBefore(until)) {
      throw Errors.badInput(
          "the period " + from + " to " + until + " is empty", "give a start before the end");
    }
    String column = "`" + timeColumn.replace("`", "``") + "`";
    return new DriftInput(
        table, column + " >= '" + from + "' AND " + column + " < '" + until + "'", label);
  }

  public DriftInput where(String condition) {
    return new DriftInput(dataset, condition, hasDefaultLabel() ? null : label);
  }

  public DriftInput labelled(String text) {
    return new DriftInput(dataset, where, text);
  }

  /** The same side at a pinned version. */
  public DriftInput pinned(DatasetRef pinnedDataset) {
    return new DriftInput(pinnedDataset, where, hasDefaultLabel() ? null : label);
  }

  private boolean hasDefaultLabel() {
    return label.equals(dataset + (where == null ? "" : " where " + where));
  }
}
