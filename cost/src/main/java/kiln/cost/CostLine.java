package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.Map;
import org.apache.spark.sql.Row;

/**
 * One cost table row as reports and budgets read it; a null cost is unknown (never counted as
 * zero).
 *
 * @param storage what keeping tables costs ({@code kiln cost storage} rows); 0 for a job's run
 */
public record CostLine(
    String job,
    String runId,
    Map<String, String> tags,
    Instant start,
    Double total,
    Double cpu,
    Double memory,
    Double gpu,
    Double tokens,
    Double storage,
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
        row.getAs("cost_memory"),
        row.getAs("cost_gpu"),
        row.getAs("cost_tokens"),
        // a table written before storage was priced has no such column: nothing stored was priced
        java.util.Arrays.asList(row.schema().fieldNames()).contains("cost_storage")
            ? row.getAs("cost_storage")
            : Double.valueOf(0),
        row.getAs("cost_idle_cpu"),
        row.getAs("currency"));
  }
}
