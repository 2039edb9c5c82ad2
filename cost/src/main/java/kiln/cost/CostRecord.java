package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * One job run's row in the cost table: who ran what (job, run, tags such as team, model and
 * pipeline), what it used and what that cost with which catalog.
 */
public record CostRecord(
    String job,
    String runId,
    Map<String, String> tags,
    Usage usage,
    List<TokenUsage> tokens,
    Cost cost) {
  public CostRecord {
    requireNonNull(job, "job is null");
    requireNonNull(usage, "usage is null");
    requireNonNull(cost, "cost is null");
    tags = tags == null ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(tags));
    tokens = tokens == null ? List.of() : List.copyOf(tokens);
  }
}
