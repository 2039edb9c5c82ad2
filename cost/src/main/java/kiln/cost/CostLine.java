package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
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

  /** The tag a nested run's cost row carries: its parent's run id (the demo's steps). */
  public static final String PARENT_TAG = "parent_run";

  /**
   * The lines with each parent run's cost reduced to what its nested runs did not already count: a
   * parent (the demo) measures the whole, its children (the steps) the parts, and summing both
   * would count the parts twice. An unknown part leaves the parent's remainder unknown.
   */
  public static List<CostLine> withoutNested(List<CostLine> lines) {
    Map<String, List<CostLine>> children = new HashMap<>();
    for (CostLine l : lines) {
      String parent = l.tags().get(PARENT_TAG);
      if (parent != null) {
        children.computeIfAbsent(parent, k -> new ArrayList<>()).add(l);
      }
    }
    if (children.isEmpty()) {
      return lines;
    }
    List<CostLine> out = new ArrayList<>();
    for (CostLine l : lines) {
      List<CostLine> parts = l.runId() == null ? null : children.get(l.runId());
      if (parts == null) {
        out.add(l);
        continue;
      }
      boolean unknown = parts.stream().anyMatch(c -> c.total() == null);
      out.add(
          new CostLine(
              l.job,
              l.runId,
              l.tags,
              l.start,
              l.total == null || unknown ? null : rest(l.total, parts, CostLine::total),
              rest(l.cpu, parts, CostLine::cpu),
              rest(l.memory, parts, CostLine::memory),
              rest(l.gpu, parts, CostLine::gpu),
              rest(l.tokens, parts, CostLine::tokens),
              rest(l.storage, parts, CostLine::storage),
              rest(l.idleCpu, parts, CostLine::idleCpu),
              l.currency));
    }
    return out;
  }

  private static Double rest(
      Double whole, List<CostLine> parts, java.util.function.Function<CostLine, Double> part) {
    if (whole == null) {
      return null;
    }
    double sum = 0;
    for (CostLine c : parts) {
      Double v = part.apply(c);
      sum += v == null ? 0 : v;
    }
    // clock edges can make the parts a hair larger than the whole
    return Math.max(0, whole - sum);
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
