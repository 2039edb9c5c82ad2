package kiln.cost;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import kiln.core.Errors;
import kiln.core.YamlFiles;
import kiln.cost.Budgets.Tier;

/**
 * Alert rules over the latest runs' MLflow metrics (error rate, latency, drift verdicts,
 * performance, cost), with the budgets' tiers: info logs, warning notifies, critical pages.
 *
 * <pre>
 * rules:
 *   - {job: llm, metric: error_rate, warning: 0.01, critical: 0.05}
 *   - {job: drift, metric: drift.dataset.drifted, critical: 1}
 *   - {job: train, metric: test_auc_roc, below: true, warning: 0.8, critical: 0.7}
 *   - {job: drift, metric: cost.total, info: 1, warning: 5, critical: 10}
 * </pre>
 *
 * A value at or past a threshold reaches its tier ({@code below: true}: at or under, for metrics
 * where lower is worse). A job without a run, or a run without the metric, is a warning: a monitor
 * that cannot see is not all clear.
 */
public record AlertRules(List<Rule> rules) {
  private static final String FIX =
      "write rules: [{job: NAME, metric: KEY, info|warning|critical: N, below: false}]";

  /** One metric of one job's latest run, and the thresholds of its tiers (at least one). */
  public record Rule(
      String job, String metric, Double info, Double warning, Double critical, Boolean below) {
    public Rule {
      if (job == null || job.isBlank()) {
        throw Errors.badInput("a rule names no job", "give job: NAME (the runs' kiln.job tag)");
      }
      if (metric == null || metric.isBlank()) {
        throw Errors.badInput(
            "the rule for job " + job + " names no metric", "give metric: KEY, e.g. cost.total");
      }
      below = below != null && below;
      if (info == null && warning == null && critical == null) {
        throw Errors.badInput(
            "the rule for " + job + " " + metric + " has no threshold",
            "give at least one of info, warning and critical");
      }
      for (Double t : new Double[] {info, warning, critical}) {
        if (t != null && !Double.isFinite(t)) {
          throw Errors.badInput(
              "the rule for " + job + " " + metric + " has a threshold of " + t,
              "thresholds are finite numbers");
        }
      }
      // the tiers must escalate: info before warning before critical in the direction of worse
      Double previous = null;
      for (Double t : new Double[] {info, warning, critical}) {
        if (t == null) {
          continue;
        }
        if (previous != null && (below ? t > previous : t < previous)) {
          throw Errors.badInput(
              "the rule for "
                  + job
                  + " "
                  + metric
                  + " has thresholds out of order (info "
                  + info
                  + ", warning "
                  + warning
                  + ", critical "
                  + critical
                  + ")",
              below
                  ? "with below: true, critical <= warning <= info"
                  : "critical >= warning >= info (or below: true when lower is worse)");
        }
        previous = t;
      }
    }

    /** The tier {@code value} reaches. */
    public Tier tier(double value) {
      if (reached(critical, value)) {
        return Tier.CRITICAL;
      }
      if (reached(warning, value)) {
        return Tier.WARNING;
      }
      return reached(info, value) ? Tier.INFO : Tier.OK;
    }

    private boolean reached(Double threshold, double value) {
      return threshold != null && (below ? value <= threshold : value >= threshold);
    }
  }

  /** A job's latest run: its id and metrics (latest value of each). */
  public record LatestRun(String runId, Map<String, Double> metrics) {
    public LatestRun {
      requireNonNull(runId, "runId is null");
      metrics = Map.copyOf(metrics);
    }
  }

  /** One rule's outcome. {@code value} is null when the job has no run or the run no metric. */
  public record Alert(
      String job, String metric, String runId, Double value, Tier tier, String why) {
    @com.fasterxml.jackson.annotation.JsonProperty("action")
    public String action() {
      return tier.action();
    }
  }

  /** The worst tier (what a scheduler branches on), its action, and every rule's alert. */
  public record Summary(Tier tier, String action, List<Alert> alerts) {
    public Summary {
      alerts = List.copyOf(alerts);
    }
  }

  public AlertRules {
    if (rules == null || rules.isEmpty()) {
      throw Errors.badInput("the rules file lists no rules", FIX);
    }
    rules = List.copyOf(rules);
  }

  public static AlertRules read(Path file) {
    return YamlFiles.read(file, AlertRules.class);
  }

  /** The distinct jobs the rules look at, in order. */
  public List<String> jobs() {
    return rules.stream().map(Rule::job).distinct().toList();
  }

  /** Each rule against its job's latest run ({@code latest} has no entry for a job never run). */
  public Summary evaluate(Map<String, LatestRun> latest) {
    List<Alert> alerts = new ArrayList<>();
    for (Rule r : rules) {
      LatestRun run = latest.get(r.job());
      if (run == null) {
        alerts.add(
            new Alert(r.job(), r.metric(), null, null, Tier.WARNING, "no run of job " + r.job()));
        continue;
      }
      Double value = run.metrics().get(r.metric());
      if (value == null) {
        alerts.add(
            new Alert(
                r.job(),
                r.metric(),
                run.runId(),
                null,
                Tier.WARNING,
                "the latest run has no metric " + r.metric()));
        continue;
      }
      Tier tier = r.tier(value);
      alerts.add(
          new Alert(
              r.job(),
              r.metric(),
              run.runId(),
              value,
              tier,
              tier == Tier.OK
                  ? "within every threshold"
                  : "at or past its " + tier + " threshold"));
    }
    Tier worst = alerts.stream().map(Alert::tier).max(Enum::compareTo).orElse(Tier.OK);
    return new Summary(worst, worst.action(), alerts);
  }
}
