package kiln.core;

/**
 * What a write left behind.
 *
 * @param written the table at the version that holds the data
 * @param rows rows in that commit
 * @param alreadyWritten true when the idempotency key was already committed and nothing new was
 *     written
 */
public record WriteResult(DatasetRef written, long rows, boolean alreadyWritten) {
  public long version() {
    return written.version();
  }
}
