package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import kiln.core.Errors;

/**
 * Costs since a date, summed per group (job, or tags such as team and model), the largest first;
 * per day and group (the cost over time) and the costliest runs.
 *
 * @param days per UTC day and group, the known cost, oldest day first
 * @param topRuns the {@value #TOP_RUNS} costliest runs of known cost, the costliest first
 */
public record CostReport(
    Instant since, List<String> groupBy, List<Group> groups, List<Day> days, List<Run> topRuns) {
  public static final List<String> DEFAULT_GROUP_BY = List.of("job");
  public static final int TOP_RUNS = 10;

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
      double memory,
      double gpu,
      double tokens,
      double storage,
      double idleCpu,
      long unknownRuns) {
    /** The key's values joined, as the report's text and plots name the group. */
    @com.fasterxml.jackson.annotation.JsonProperty("label")
    public String label() {
      return String.join(" / ", key.values());
    }

    /** The part of the CPU cost no task used (0 when nothing was spent on CPU). */
    @com.fasterxml.jackson.annotation.JsonProperty("idleShare")
    public double idleShare() {
      return cpu == 0 ? 0 : idleCpu / cpu;
    }
  }

  /** A group's known cost on one UTC day ({@code day} as YYYY-MM-DD). */
  public record Day(String day, String group, double total) {}

  /** One run's known cost. */
  public record Run(String job, String runId, String group, Instant start, double total) {}

  public CostReport {
    requireNonNull(since, "since is null");
    groupBy = List.copyOf(groupBy);
    groups = List.copyOf(groups);
    days = List.copyOf(days);
    topRuns = List.copyOf(topRuns);
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
    Map<LocalDate, Map<String, Double>> perDay = new TreeMap<>();
    List<Run> runs = new ArrayList<>();
    for (CostLine line : CostLine.withoutNested(lines)) {
      if (line.start().isBefore(since)) {
        continue;
      }
      List<String> key = new ArrayList<>();
      for (String k : groupBy) {
        key.add(line.group(k));
      }
      double[] s = sums.computeIfAbsent(key, k -> new double[9]);
      s[0]++;
      if (line.total() == null) {
        s[8]++;
      } else {
        s[1] += line.total();
        String label = String.join(" / ", key);
        perDay
            .computeIfAbsent(
                line.start().atZone(ZoneOffset.UTC).toLocalDate(), d -> new TreeMap<>())
            .merge(label, line.total(), Double::sum);
        runs.add(new Run(line.job(), line.runId(), label, line.start(), line.total()));
      }
      s[2] += orZero(line.cpu());
      s[3] += orZero(line.memory());
      s[4] += orZero(line.gpu());
      s[5] += orZero(line.tokens());
      s[6] += orZero(line.storage());
      s[7] += orZero(line.idleCpu());
    }
    List<Group> groups = new ArrayList<>();
    for (Map.Entry<List<String>, double[]> e : sums.entrySet()) {
      Map<String, String> key = new LinkedHashMap<>();
      for (int i = 0; i < groupBy.size(); i++) {
        key.put(groupBy.get(i), e.getKey().get(i));
      }
      double[] s = e.getValue();
      groups.add(
          new Group(key, (long) s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], (long) s[8]));
    }
    groups.sort(Comparator.comparingDouble(Group::total).reversed());
    List<Day> days = new ArrayList<>();
    perDay.forEach(
        (day, byGroup) -> byGroup.forEach((g, t) -> days.add(new Day(day.toString(), g, t))));
    runs.sort(Comparator.comparingDouble(Run::total).reversed().thenComparing(Run::start));
    return new CostReport(
        since, groupBy, groups, days, runs.subList(0, Math.min(TOP_RUNS, runs.size())));
  }

  private static double orZero(Double v) {
    return v == null ? 0 : v;
  }

  public double total() {
    return groups.stream().mapToDouble(Group::total).sum();
  }

  /**
   * The known cost by resource over every group: cpu (idle included), memory, gpu, tokens, storage.
   */
  public Map<String, Double> byResource() {
    Map<String, Double> m = new LinkedHashMap<>();
    m.put("cpu", groups.stream().mapToDouble(Group::cpu).sum());
    m.put("memory", groups.stream().mapToDouble(Group::memory).sum());
    m.put("gpu", groups.stream().mapToDouble(Group::gpu).sum());
    m.put("tokens", groups.stream().mapToDouble(Group::tokens).sum());
    m.put("storage", groups.stream().mapToDouble(Group::storage).sum());
    return m;
  }

  /** Idle CPU over all CPU cost: what was reserved and not used. */
  public double idleShare() {
    double cpu = groups.stream().mapToDouble(Group::cpu).sum();
    return cpu == 0 ? 0 : groups.stream().mapToDouble(Group::idleCpu).sum() / cpu;
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
            "%6s %12s %12s %12s %12s %12s %12s %s",
            "runs", "total", "cpu", "gpu", "tokens", "storage", "idle cpu", "unknown"));
    out.append(header.toString().stripTrailing()).append('\n');
    for (Group g : groups) {
      StringBuilder line = new StringBuilder();
      for (String key : groupBy) {
        line.append(String.format("%-20s ", g.key().get(key)));
      }
      line.append(
          String.format(
              java.util.Locale.ROOT,
              "%6d %12.6f %12.6f %12.6f %12.6f %12.6f %12.6f %d",
              g.runs(),
              g.total(),
              g.cpu(),
              g.gpu(),
              g.tokens(),
              g.storage(),
              g.idleCpu(),
              g.unknownRuns()));
      out.append(line).append('\n');
    }
    out.append(
        String.format(
            java.util.Locale.ROOT,
            "Total since %s: %.6f over %d runs",
            since,
            total(),
            groups.stream().mapToLong(Group::runs).sum()));
    long unknown = groups.stream().mapToLong(Group::unknownRuns).sum();
    if (unknown > 0) {
      out.append(" (").append(unknown).append(" runs of unknown cost not included)");
    }
    return out.append('\n').toString();
  }
}
