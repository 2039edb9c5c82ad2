package kiln.drift.internal;

import java.io.DataOutputStream;
import java.io.IOException;

/**
 * The mergeable state of one column, built in one pass over a partition and merged across
 * partitions.
 */
public interface ColumnProfile {
  void addNull();

  void merge(ColumnProfile other);

  long rows();

  long nulls();

  void write(DataOutputStream out) throws IOException;
}
