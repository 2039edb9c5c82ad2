package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One job run's row in the cost table: who ran what (job, run, tags such as team, model and
 * pipeline), what it used and what that cost with which catalog.
 *
 * @param storageBytes what a storage row measured a table to keep (0 for a job's run)
 */
public record CostRecord(
    String job,
    String runId,
    Map<String, String> tags,
    Usage usage,
    List<TokenUsage> tokens,
    long storageBytes,
    Cost cost) {
  /** A job's run. */
  public CostRecord(
      String job,
      String runId,
      Map<String, String> tags,
      Usage usage,
      List<TokenUsage> tokens,
      Cost cost) {
    this(job, runId, tags, usage, tokens, 0, cost);
  }

  public CostRecord {
    if (storageBytes < 0) {
      throw kiln.core.Errors.badInput(
          "a negative storage size: " + storageBytes, "sizes are >= 0 bytes");
    }
    requireNonNull(job, "job is null");
    requireNonNull(usage, "usage is null");
    requireNonNull(cost, "cost is null");
    tags = tags == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(tags));
    tokens = tokens == null ? List.of() : List.copyOf(tokens);
  }
}
