package kiln.cost;

import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import kiln.core.Errors;
import kiln.core.YamlFiles;

/**
 * A budgets file: limits per team, model or job, per day or month (UTC).
 *
 * <pre>
 * budgets:
 *   - {team: risk, period: month, limit: 500}
 *   - {job: drift, period: day, limit: 2.5}
 * </pre>
 */
public record Budgets(List<Budget> budgets) {
  public enum Period {
    DAY,
    MONTH
  }

  public enum Tier {
    OK,
    INFO,
    WARNING,
    CRITICAL
  }

  /** Exactly one of team, model and job; the limit in the catalog's currency. */
  public record Budget(String team, String model, String job, Period period, Double limit) {
    public Budget {
      int given = (team == null ? 0 : 1) + (model == null ? 0 : 1) + (job == null ? 0 : 1);
      if (given != 1) {
        throw Errors.badInput(
            "a budget names " + given + " of team, model and job", "give exactly one of them");
      }
      if (period == null) {
        throw Errors.badInput("a budget has no period", "give period: day or period: month");
      }
      if (limit == null || limit <= 0 || limit.isNaN()) {
        throw Errors.badInput("a budget's limit is " + limit, "give a positive limit");
      }
    }

    /** The group key (team, model or job) and its value. */
    public String key() {
      return team != null ? "team" : model != null ? "model" : "job";
    }

    public String value() {
      return team != null ? team : model != null ? model : job;
    }

    Instant periodStart(Instant now) {
      LocalDate today = now.atZone(ZoneOffset.UTC).toLocalDate();
      LocalDate start = period == Period.DAY ? today : today.withDayOfMonth(1);
      return start.atStartOfDay(ZoneOffset.UTC).toInstant();
    }
  }

  /** A budget's state: spent in the current period (known costs) and its tier. */
  public record Status(
      Budget budget,
      Instant periodStart,
      double spent,
      double share,
      long unknownRuns,
      Tier tier) {}

  public Budgets {
    if (budgets == null || budgets.isEmpty()) {
      throw Errors.badInput(
          "the budgets file lists no budgets",
          "add budgets: [{team: NAME, period: month, limit: N}]");
    }
    budgets = List.copyOf(budgets);
  }

  public static Budgets read(Path file) {
    return YamlFiles.read(file, Budgets.class);
  }

  /** info at ≥ 50% of a limit, warning at ≥ 80%, critical when exceeded. */
  public static Tier tier(double share) {
    return share > 1
        ? Tier.CRITICAL
        : share >= 0.8 ? Tier.WARNING : share >= 0.5 ? Tier.INFO : Tier.OK;
  }

  /**
   * Each budget against the cost lines. A budget for a group no run ever had (a misspelt team) is
   * bad input, not a zero spend: {@code all} are every line of the table, to know the groups.
   */
  public List<Status> check(List<CostLine> all, Instant now) {
    List<Status> out = new ArrayList<>();
    for (Budget b : budgets) {
      Set<String> known = all.stream().map(l -> l.group(b.key())).collect(Collectors.toSet());
      if (!known.contains(b.value())) {
        throw Errors.badInput(
            "a budget for " + b.key() + " '" + b.value() + "', which no run in the cost table has",
            "use one of the "
                + b.key()
                + " values the table has: "
                + known.stream()
                    .filter(v -> !v.equals("-"))
                    .sorted()
                    .collect(Collectors.joining(", "))
                + " (tag runs with --tag "
                + b.key()
                + "=NAME)");
      }
      Instant start = b.periodStart(now);
      double spent = 0;
      long unknown = 0;
      for (CostLine l : all) {
        if (!l.start().isBefore(start) && b.value().equals(l.group(b.key()))) {
          if (l.total() == null) {
            unknown++;
          } else {
            spent += l.total();
          }
        }
      }
      double share = spent / b.limit();
      out.add(new Status(b, start, spent, share, unknown, tier(share)));
    }
    return out;
  }
}
