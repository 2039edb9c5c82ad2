package kiln.core;

import java.util.Map;
import java.util.Objects;

/**
 * How to write a version of a table.
 *
 * @param idempotencyKey when set, a write whose key is already committed is not done again: for
 *     APPEND any earlier commit with the key counts (Delta's txnAppId guards concurrent retries
 *     too), for OVERWRITE only the latest commit does, so that re-loading an older source still
 *     works
 * @param metadata recorded with the commit (Delta's userMetadata), shown by history
 */
public record WriteOptions(WriteMode mode, String idempotencyKey, Map<String, String> metadata) {
  public WriteOptions {
    Objects.requireNonNull(mode, "mode is null");
    metadata = metadata == null ? Map.of() : Map.copyOf(metadata);
    if (idempotencyKey != null && idempotencyKey.isBlank()) {
      throw Errors.badInput("the idempotency key is blank", "give a non-empty key, or none");
    }
  }

  public static WriteOptions of(WriteMode mode) {
    return new WriteOptions(mode, null, Map.of());
  }
}
