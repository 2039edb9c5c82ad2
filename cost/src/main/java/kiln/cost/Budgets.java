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
 * A budgets file: limits per team, model or job, per day, week (Monday on) or month (UTC). Each
 * budget's tier follows the share of its limit spent in the current period (the design's tiered
 * alerting: critical pages, warning notifies, info logs), and a linear forecast to the period's end
 * says where it is heading.
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
    WEEK,
    MONTH
  }

  /** Alert tiers, mildest first, with the action each one calls for. */
  public enum Tier {
    OK("none"),
    INFO("log"),
    WARNING("notify"),
    CRITICAL("page");

    private final String action;

    Tier(String action) {
      this.action = action;
    }

    /** What the design's tiered alerting does at this tier: page, notify, log or none. */
    public String action() {
      return action;
    }
  }

  /** The part of a period that must have passed before a forecast means anything. */
  static final double FORECAST_AFTER = 0.1;

  /** Exactly one of team, model and job; the limit in the catalog's currency. */
  public record Budget(String team, String model, String job, Period period, Double limit) {
    public Budget {
      int given = (team == null ? 0 : 1) + (model == null ? 0 : 1) + (job == null ? 0 : 1);
      if (given != 1) {
        throw Errors.badInput(
            "a budget names " + given + " of team, model and job", "give exactly one of them");
      }
      if (period == null) {
        throw Errors.badInput(
            "a budget has no period", "give period: day, period: week or period: month");
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
      LocalDate start =
          switch (period) {
            case DAY -> today;
            case WEEK -> today.with(java.time.DayOfWeek.MONDAY);
            case MONTH -> today.withDayOfMonth(1);
          };
      return start.atStartOfDay(ZoneOffset.UTC).toInstant();
    }

    Instant periodEnd(Instant now) {
      LocalDate start = periodStart(now).atZone(ZoneOffset.UTC).toLocalDate();
      LocalDate end =
          switch (period) {
            case DAY -> start.plusDays(1);
            case WEEK -> start.plusWeeks(1);
            case MONTH -> start.plusMonths(1);
          };
      return end.atStartOfDay(ZoneOffset.UTC).toInstant();
    }
  }

  /**
   * A budget's state: spent in the current period (known costs) and its tier; the spend projected
   * linearly to the period's end (null before {@value #FORECAST_AFTER} of the period has passed:
   * too early to say) and the tier that would reach.
   */
  public record Status(
      Budget budget,
      Instant periodStart,
      Instant periodEnd,
      double spent,
      double share,
      long unknownRuns,
      Tier tier,
      Double forecast,
      Tier forecastTier) {
    /** What this tier calls for: page, notify, log or none. */
    @com.fasterxml.jackson.annotation.JsonProperty("action")
    public String action() {
      return tier.action();
    }
  }

  /**
   * What {@code kiln cost check --json} prints: the worst tier over all budgets (what a scheduler
   * branches on), its action, and each budget.
   */
  public record Summary(Tier tier, String action, List<Status> budgets) {
    public Summary {
      budgets = List.copyOf(budgets);
    }

    public static Summary of(List<Status> budgets) {
      Tier worst = budgets.stream().map(Status::tier).max(Enum::compareTo).orElse(Tier.OK);
      return new Summary(worst, worst.action(), budgets);
    }
  }

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
  public List<Status> check(List<CostLine> lines, Instant now) {
    List<CostLine> all = CostLine.withoutNested(lines);
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
      Instant end = b.periodEnd(now);
      double passed =
          (double) java.time.Duration.between(start, now).toMillis()
              / java.time.Duration.between(start, end).toMillis();
      Double forecast = passed < FORECAST_AFTER ? null : spent / Math.min(1, passed);
      out.add(
          new Status(
              b,
              start,
              end,
              spent,
              share,
              unknown,
              tier(share),
              forecast,
              forecast == null ? null : tier(forecast / b.limit())));
    }
    return out;
  }
}
