package kiln.drift;

import java.util.Objects;
import kiln.core.DatasetRef;

/**
 * One side of a comparison: a Delta table at a version, optionally narrowed by a Spark SQL condition
 * (e.g. one month of a table), with a label for reports.
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
