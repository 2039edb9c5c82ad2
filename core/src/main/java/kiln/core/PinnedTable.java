package kiln.core;

import java.util.Objects;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * A Delta table resolved once to a concrete version, with its rows at that version. Made by {@link
 * Datasets#pin}; jobs pass it down so that nothing below them resolves the table again.
 */
public record PinnedTable(DatasetRef ref, Dataset<Row> rows) {
  public PinnedTable {
    Objects.requireNonNull(ref, "ref is null");
    Objects.requireNonNull(rows, "rows is null");
    if (ref.version() == null) {
      throw new IllegalArgumentException("a pinned table needs a concrete version, got " + ref);
    }
  }

  public String table() {
    return ref.table();
  }

  public long version() {
    return ref.version();
  }

  /**
   * The same version with other rows (e.g. filtered or scored): still pinned, nothing re-resolved.
   */
  public PinnedTable withRows(Dataset<Row> other) {
    return new PinnedTable(ref, other);
  }

  @Override
  public String toString() {
    return ref.toString();
  }
}
