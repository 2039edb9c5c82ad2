package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;

/**
 * Costs since a date, summed per group (job, or tags such as team and model), the largest first.
 */
public record CostReport(Instant since, List<String> groupBy, List<Group> groups) {
  public static final List<String> DEFAULT_GROUP_BY = List.of("job");

  /**
   * One group's sums. {@code total} adds the runs whose cost is known; {@code unknownRuns} counts
   * the others (a catalog that does not price their GPU or model), so a reader sees the total is a
   * floor.
   */
  public record Group(
      Map<String, String> key,
      long runs,
      double total,
      double cpu,
      double gpu,
      double tokens,
      double idleCpu,
      long unknownRuns) {}

  public CostReport {
    requireNonNull(since, "since is null");
    groupBy = List.copyOf(groupBy);
    groups = List.copyOf(groups);
  }

  public static CostReport of(Instant since, List<String> groupBy, List<CostLine> lines) {
    if (groupBy == null || groupBy.isEmpty()) {
      groupBy = DEFAULT_GROUP_BY;
    }
    for (String key : groupBy) {
      if (key.isBlank()) {
        throw Errors.badInput(
            "an empty --group-by key", "group by job or a tag, e.g. --group-by team,model,job");
      }
    }
    Map<List<String>, double[]> sums = new TreeMap<>(Comparator.comparing(Object::toString));
    for (CostLine line : lines) {
      if (line.start().isBefore(since)) {
        continue;
      }
      List<String> key = groupBy.stream().map(line::group).toList();
      double[] s = sums.computeIfAbsent(key, k -> new double[7]);
      s[0]++;
      if (line.total() == null) {
        s[6]++;
      } else {
        s[1] += line.total();
      }
      s[2] += line.cpu() == null ? 0 : line.cpu();
      s[3] += line.gpu() == null ? 0 : line.gpu();
      s[4] += line.tokens() == null ? 0 : line.tokens();
      s[5] += line.idleCpu() == null ? 0 : line.idleCpu();
    }
    List<Group> groups = new ArrayList<>();
    for (Map.Entry<List<String>, double[]> e : sums.entrySet()) {
      Map<String, String> key = new LinkedHashMap<>();
      for (int i = 0; i < groupBy.size(); i++) {
        key.put(groupBy.get(i), e.getKey().get(i));
      }
      double[] s = e.getValue();
      groups.add(new Group(key, (long) s[0], s[1], s[2], s[3], s[4], s[5], (long) s[6]));
    }
    groups.sort(Comparator.comparingDouble(Group::total).reversed());
    return new CostReport(since, groupBy, groups);
  }

  public double total() {
    return groups.stream().mapToDouble(Group::total).sum();
  }

  /** A text table: one line per group, the largest cost first, then the total. */
  public String text() {
    StringBuilder out = new StringBuilder();
    StringBuilder header = new StringBuilder();
    for (String key : groupBy) {
      header.append(String.format("%-20s ", key));
    }
    header.append(
        String.format(
            "%6s %12s %12s %12s %12s %12s %s",
            "runs", "total", "cpu", "gpu", "tokens", "idle cpu", "unknown"));
    out.append(header.toString().stripTrailing()).append('\n');
    for (Group g : groups) {
      StringBuilder line = new StringBuilder();
      for (String key : groupBy) {
        line.append(String.format("%-20s ", g.key().get(key)));
      }
      line.append(
          String.format(
              "%6d %12.6f %12.6f %12.6f %12.6f %12.6f %d",
              g.runs(), g.total(), g.cpu(), g.gpu(), g.tokens(), g.idleCpu(), g.unknownRuns()));
      out.append(line).append('\n');
    }
    out.append(
        String.format(
            "Total since %s: %.6f over %d runs",
            since, total(), groups.stream().mapToLong(Group::runs).sum()));
    long unknown = groups.stream().mapToLong(Group::unknownRuns).sum();
    if (unknown > 0) {
      out.append(" (").append(unknown).append(" runs of unknown cost not included)");
    }
    return out.append('\n').toString();
  }
}
