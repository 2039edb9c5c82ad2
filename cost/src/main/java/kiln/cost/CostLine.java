package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * One cost table row as reports and budgets read it; a null cost is unknown (never counted as
 * zero).
 */
public record CostLine(
    String job,
    String runId,
    Map<String, String> tags,
    Instant start,
    Double total,
    Double cpu,
    Double gpu,
    Double tokens,
    Double idleCpu,
    String currency) {
  public CostLine {
    requireNonNull(job, "job is null");
    requireNonNull(start, "start is null");
    tags = tags == null ? Map.of() : Map.copyOf(tags);
  }

  /**
   * The value of a group-by key: job, or a tag (team, model, pipeline, ...); "-" when the run has
   * no such tag.
   */
  public String group(String key) {
    return key.equals("job") ? job : tags.getOrDefault(key, "-");
  }

  static CostLine of(Row row) {
    return new CostLine(
        row.getAs("job"),
        row.getAs("run_id"),
        row.getJavaMap(row.fieldIndex("tags")),
        row.<java.sql.Timestamp>getAs("start").toInstant(),
        row.getAs("cost_total"),
        row.getAs("cost_cpu"),
        row.getAs("cost_gpu"),
        row.getAs("cost_tokens"),
        row.getAs("cost_idle_cpu"),
        row.getAs("currency"));
  }
}
